import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_ENGINE_CHOICE,
  engineRequest,
  fallbackNote,
  fitEngineChoice,
  isGenerative,
  loadEngineChoice,
  lockFigures,
  lockRefusal,
  pickEngine,
  pickedEngine,
  saveEngineChoice,
  showsRoutePicker,
} from './engine-choice.js';

const studioOnly = { routes: ['default', 'studio'], defaultEngine: 'studio' as const };
const withHiapi = { routes: ['default', 'studio', 'hiapi'], defaultEngine: 'studio' as const };
const hiapiDefault = { routes: ['default', 'studio', 'hiapi', 'openai'], defaultEngine: 'hiapi' as const };

describe('engine choice', () => {
  it('shows the route picker only when there is more than one engine', () => {
    expect(showsRoutePicker(studioOnly)).toBe(false);
    expect(showsRoutePicker({ routes: ['default'] })).toBe(false);
    expect(showsRoutePicker(withHiapi)).toBe(true);
  });

  it('selects the server\'s default engine at first, and sends picking it as no route', () => {
    expect(pickedEngine(DEFAULT_ENGINE_CHOICE, withHiapi)).toBe('studio');
    expect(pickedEngine(DEFAULT_ENGINE_CHOICE, hiapiDefault)).toBe('hiapi');
    const hiapi = pickEngine(DEFAULT_ENGINE_CHOICE, 'hiapi', withHiapi);
    expect(hiapi.route).toBe('hiapi');
    expect(pickEngine(hiapi, 'studio', withHiapi).route).toBe('default');
    // on a server whose default is hiapi, the studio must be named
    expect(pickEngine(DEFAULT_ENGINE_CHOICE, 'studio', hiapiDefault).route).toBe('studio');
  });

  it('sends the route and the lock only where they mean something', () => {
    expect(engineRequest(DEFAULT_ENGINE_CHOICE, withHiapi)).toEqual({});
    expect(engineRequest({ route: 'hiapi', lock: 'blend' }, withHiapi)).toEqual({ route: 'hiapi', lock: 'blend' });
    expect(engineRequest({ route: 'studio', lock: 'off' }, hiapiDefault)).toEqual({ route: 'studio' });
    // the default route is generative on this server: the lock goes with it, the route does not
    expect(engineRequest({ route: 'default', lock: 'strict' }, hiapiDefault)).toEqual({ lock: 'strict' });
    expect(isGenerative('default', hiapiDefault)).toBe(true);
    expect(isGenerative('default', { routes: ['default'] })).toBe(false);
  });

  it('brings a saved choice back to what the server accepts', () => {
    expect(fitEngineChoice({ route: 'comfyui', lock: 'blend' }, withHiapi)).toEqual({ route: 'default', lock: 'blend' });
    expect(fitEngineChoice({ route: 'hiapi', lock: 'loose' as 'strict' }, withHiapi)).toEqual({ route: 'hiapi', lock: 'strict' });
  });

  describe('kept in this browser', () => {
    beforeEach(() => {
      const m = new Map<string, string>();
      vi.stubGlobal('localStorage', { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) });
    });
    afterEach(() => vi.unstubAllGlobals());

    it('loads what was saved, and the default when nothing or garbage was', () => {
      expect(loadEngineChoice()).toEqual(DEFAULT_ENGINE_CHOICE);
      saveEngineChoice({ route: 'hiapi', lock: 'blend' });
      expect(loadEngineChoice()).toEqual({ route: 'hiapi', lock: 'blend' });
      localStorage.setItem('reshoot.engine', '{not json');
      expect(loadEngineChoice()).toEqual(DEFAULT_ENGINE_CHOICE);
    });
  });
});

describe('lock figures in words', () => {
  const lock = { mode: 'strict' as const, found: true, transform: { dx: -51.2, dy: 30.6, scale: 1.0812, rotation: 2.46 }, score: 0.91, silhouetteIoU: 0.9634, deltaE: { before: 9.14, after: 0.38 } };

  it('says where the model put the product, how its outline matched and the colour before → after', () => {
    const { summary, figures } = lockFigures(lock);
    expect(summary).toBe('Product lock (strict): the photographed product was pasted back where the model put it.');
    expect(figures.map((f) => [f.label, f.value])).toEqual([
      ['Product found', 'yes'],
      ['Where the model put it', 'moved −51, +31 px · scale 1.08× · rotated 2.5°'],
      ['Silhouette match', 'IoU 0.96'],
      ['Product colour ΔE', '9.14 → 0.38'],
    ]);
  });

  it('says when the product was not found, and when the lock was off', () => {
    expect(lockFigures({ ...lock, mode: 'blend', found: false }).figures[1]!.value).toBe('not found; kept where the layout placed it');
    expect(lockFigures({ ...lock, mode: 'off' }).summary).toBe("Lock off: the model's pixels are kept as they are.");
  });

  it('reads a strict refusal out of the task\'s error, and nothing else', () => {
    expect(lockRefusal({ message: "product lock: the upstream changed the product's silhouette (IoU 0.706 after alignment < 0.85); input.lock blend keeps the product anyway" })).toBe(
      "The model changed the product's outline: after alignment it matches the photographed one at IoU 0.71, under the 0.85 the strict lock needs",
    );
    expect(lockRefusal({ message: "product lock: the product was not found in the upstream's image (edge correlation 0.12 < 0.3); input.lock blend keeps the product anyway" })).toBe(
      'The model lost the product: it could not be found in the generated image',
    );
    // a reason this studio does not know how to word is shown as it came
    expect(lockRefusal({ message: 'product lock: something new' })).toBe('Something new');
    expect(lockRefusal({ message: 'input_urls[0]: download failed (HTTP 404)' })).toBeNull();
    expect(lockRefusal(undefined)).toBeNull();
  });

  it('says the studio stood in, and why', () => {
    expect(fallbackNote({ from: 'hiapi', reason: 'upstream hiapi did not create the task: 3 attempts, last HTTP 500.' })).toBe(
      'Rendered with the studio: upstream hiapi did not create the task: 3 attempts, last HTTP 500.',
    );
    expect(fallbackNote({ from: 'openai', reason: 'timed out' })).toBe('Rendered with the studio: openai: timed out.');
    expect(fallbackNote(undefined)).toBeNull();
  });
});
