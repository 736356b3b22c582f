import type { EngineName, LockModeName } from '../../src/contract/models.js';
import { LOCK_MODES } from '../../src/contract/models.js';
import type { ServedRoutes } from '../../src/contract/served-models.js';
import type { ReshootExtension } from '../../src/contract/task.js';

/**
 * Which engine renders (the task's top-level `route`) and what the product lock does with a generative
 * engine's frame (`input.lock`), as the studio and its batch tab pick them, and the lock's report in
 * plain words.
 */

export interface EngineChoice {
  /** `default` (the server's default engine) or an engine the server configured */
  route: string;
  lock: LockModeName;
}

export const DEFAULT_ENGINE_CHOICE: EngineChoice = { route: 'default', lock: 'strict' };

/** What a server is taken to accept before it has said: its default route, which is the studio. */
export const UNKNOWN_ROUTES: ServedRoutes = { routes: ['default'] };

export const ENGINE_LABELS: Record<EngineName, string> = {
  studio: 'Studio',
  hiapi: 'hiapi',
  openai: 'OpenAI images',
  comfyui: 'ComfyUI',
};

export const ENGINE_HINTS: Record<EngineName, string> = {
  studio: 'Rendered here, the same bytes every time',
  hiapi: 'GPT Image 2 paints the scene',
  openai: 'An OpenAI-compatible model paints the scene',
  comfyui: 'Your ComfyUI workflow paints the scene',
};

export const LOCK_LABELS: Record<LockModeName, { label: string; hint: string }> = {
  strict: { label: 'Strict', hint: 'Paste the photographed product back; fail the render if the model reshaped it' },
  blend: { label: 'Blend', hint: 'Paste the product back and always keep the render' },
  off: { label: 'Off', hint: "Keep the model's pixels as they are (the figures are still measured)" },
};

/** The engines a person can pick from: the server's routes without `default`, which is one of them. */
export function pickableEngines(served: ServedRoutes): string[] {
  return served.routes.filter((r) => r !== 'default');
}

/** The route picker is shown only when there is more than one engine to pick. */
export function showsRoutePicker(served: ServedRoutes): boolean {
  return pickableEngines(served).length > 1;
}

/** The engine a route renders with on this server; `undefined` when the server did not say what its default is. */
export function engineOf(route: string, served: ServedRoutes): string | undefined {
  return route === 'default' ? served.defaultEngine : route;
}

/** Whether a route renders with a generative engine (and so the lock applies). */
export function isGenerative(route: string, served: ServedRoutes): boolean {
  const engine = engineOf(route, served);
  return engine !== undefined && engine !== 'studio';
}

/** The engine the picker shows as selected: the default route shows as the engine it means. */
export function pickedEngine(choice: EngineChoice, served: ServedRoutes): string {
  return engineOf(choice.route, served) ?? 'default';
}

/** The choice after the person picked `engine`: the server's default engine is sent as no route at all. */
export function pickEngine(choice: EngineChoice, engine: string, served: ServedRoutes): EngineChoice {
  return { ...choice, route: engine === served.defaultEngine ? 'default' : engine };
}

/** Brings a saved choice back to what this server accepts: a route it does not list becomes its default. */
export function fitEngineChoice(choice: EngineChoice, served: ServedRoutes): EngineChoice {
  const route = served.routes.includes(choice.route) ? choice.route : 'default';
  const lock = (LOCK_MODES as readonly string[]).includes(choice.lock) ? choice.lock : 'strict';
  return { route, lock };
}

/**
 * What the choice adds to a create request: the top-level `route` (left out for the default, so a
 * studio body stays as it was) and `input.lock` (only for a generative engine; the studio ignores it).
 */
export function engineRequest(choice: EngineChoice, served: ServedRoutes): { route?: string; lock?: LockModeName } {
  const out: { route?: string; lock?: LockModeName } = {};
  if (choice.route !== 'default') out.route = choice.route;
  if (isGenerative(choice.route, served)) out.lock = choice.lock;
  return out;
}

const ENGINE_KEY = 'reshoot.engine';

/** The engine choice as it was left in this browser (the studio form and the batch tab share it). */
export function loadEngineChoice(): EngineChoice {
  try {
    const raw = JSON.parse(localStorage.getItem(ENGINE_KEY) ?? 'null') as Partial<EngineChoice> | null;
    if (raw && typeof raw.route === 'string' && typeof raw.lock === 'string') return { route: raw.route, lock: raw.lock as LockModeName };
  } catch {
    // unreadable: start from the default
  }
  return DEFAULT_ENGINE_CHOICE;
}

export function saveEngineChoice(choice: EngineChoice): void {
  try {
    localStorage.setItem(ENGINE_KEY, JSON.stringify(choice));
  } catch {
    // not kept: the next visit starts from the default
  }
}

type LockReport = NonNullable<ReshootExtension['lock']>;

/** The strict lock's threshold (engine/lock MIN_SILHOUETTE_IOU), for the words around the figure. */
export const STRICT_MIN_IOU = 0.85;

export interface LockFigure {
  label: string;
  value: string;
  /** a sentence for the tooltip */
  title: string;
}

const signed = (n: number) => `${n > 0 ? '+' : n < 0 ? '−' : ''}${Math.abs(Math.round(n))}`;

/**
 * The lock's report as a person reads it: where the model put the product (moved x, y px, scale,
 * rotation), how well its outline matched ours, and the product's colour error before → after the lock.
 */
export function lockFigures(lock: LockReport): { summary: string; figures: LockFigure[] } {
  const { dx, dy, scale, rotation } = lock.transform;
  const where = lock.found
    ? `moved ${signed(dx)}, ${signed(dy)} px · scale ${scale.toFixed(2)}× · rotated ${rotation.toFixed(1)}°`
    : 'not found; kept where the layout placed it';
  const summary =
    lock.mode === 'off'
      ? "Lock off: the model's pixels are kept as they are."
      : lock.found
        ? `Product lock (${lock.mode}): the photographed product was pasted back where the model put it.`
        : `Product lock (${lock.mode}): the model lost the product; the photographed one was pasted back at its layout position.`;
  return {
    summary,
    figures: [
      { label: 'Product found', value: lock.found ? 'yes' : 'no', title: `Edge match where it was found: ${lock.score.toFixed(2)} (−1 to 1)` },
      { label: 'Where the model put it', value: where, title: 'Shift of the product centre in output pixels, its scale and its rotation against our layout' },
      {
        label: 'Silhouette match',
        value: `IoU ${lock.silhouetteIoU.toFixed(2)}`,
        title: `The model's outline of the product against the photographed one after alignment; strict refuses under ${STRICT_MIN_IOU}`,
      },
      {
        label: 'Product colour ΔE',
        value: `${lock.deltaE.before.toFixed(2)} → ${lock.deltaE.after.toFixed(2)}`,
        title: "Mean ΔE76 inside the product against the photo: in the model's image → after the lock (under 1 cannot be seen)",
      },
    ],
  };
}

/** A strict lock's refusal reads `product lock: …` (engine/lock): the reason a person is shown. */
export function lockRefusal(error: { message: string } | undefined): string | null {
  if (!error || !error.message.startsWith('product lock:')) return null;
  const reason = error.message.slice('product lock:'.length).trim().replace(/; input\.lock blend keeps the product anyway$/, '');
  const silhouette = /silhouette \(IoU ([\d.]+) after alignment < ([\d.]+)\)/.exec(reason);
  if (silhouette) {
    return `The model changed the product's outline: after alignment it matches the photographed one at IoU ${Number(silhouette[1]).toFixed(2)}, under the ${silhouette[2]} the strict lock needs`;
  }
  if (/not found/.test(reason)) return "The model lost the product: it could not be found in the generated image";
  return reason.charAt(0).toUpperCase() + reason.slice(1);
}

/** "Rendered with the studio: <reason>" when the generative engine failed and the studio stood in. */
export function fallbackNote(fallback: ReshootExtension['fallback']): string | null {
  if (!fallback) return null;
  const reason = fallback.reason.trim().replace(/\.$/, '');
  // the reason names the upstream in most cases; say which one when it does not
  return `Rendered with the studio: ${reason.includes(fallback.from) ? reason : `${fallback.from}: ${reason}`}.`;
}
