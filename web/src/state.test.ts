import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_FORMAT,
  beforeKindOf,
  contentKey,
  duplicateOf,
  fitFormat,
  loadHidden,
  loadSession,
  matchesSearch,
  pickSeed,
  rolesFor,
  saveHidden,
  saveSession,
  type Reference,
  type Turn,
} from './state.js';

/** localStorage as the browser has it, for the functions that keep the session. */
function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

const turn = (taskId: string, extra: Partial<Turn> = {}): Turn => ({ taskId, parentId: null, kind: 'new', prompt: 'p', beforeUrl: null, request: null, ...extra });
const ref = (extra: Partial<Reference>): Reference => ({ id: 'r', name: 'a.png', url: null, preview: 'blob:x', role: 'auto', status: 'ready', ...extra });

describe('format choice', () => {
  it('keeps what still fits another model and replaces what does not', () => {
    expect(fitFormat({ ...DEFAULT_FORMAT, model: 'gpt-image-2-image-to-image-pro', aspectRatio: '9:21' })).toMatchObject({ aspectRatio: '1:1' });
    expect(fitFormat({ ...DEFAULT_FORMAT, aspectRatio: '16:9', resolution: '4K' })).toMatchObject({ aspectRatio: '16:9', resolution: '4K' });
    // 1:1 at 4K is not offered on the standard model: the resolution falls back to the default
    expect(fitFormat({ ...DEFAULT_FORMAT, resolution: '4K' }).resolution).toBe('1K');
    // an unknown model becomes the default one
    expect(fitFormat({ ...DEFAULT_FORMAT, model: 'nope' }).model).toBe(DEFAULT_FORMAT.model);
  });

  it('sends roles up to the last one set by hand, an Auto before it as a product', () => {
    expect(rolesFor([{ role: 'auto' }, { role: 'auto' }])).toBeUndefined();
    expect(rolesFor([{ role: 'auto' }, { role: 'style' }, { role: 'auto' }])).toEqual(['product', 'style']);
  });

  it('uses a typed seed and makes a random one otherwise', () => {
    expect(pickSeed('42')).toBe(42);
    for (const typed of ['', ' ', '-1', '1.5', 'abc', String(2 ** 32)]) {
      const s = pickSeed(typed);
      expect(Number.isInteger(s) && s >= 0 && s < 2_147_483_647).toBe(true);
    }
  });
});

describe('duplicate references', () => {
  it('hashes the bytes: the same picture under another name is the same content', async () => {
    const a = await contentKey(new File([new Uint8Array([1, 2, 3])], 'a.png'));
    const b = await contentKey(new File([new Uint8Array([1, 2, 3])], 'copy of a.png'));
    const c = await contentKey(new File([new Uint8Array([1, 2, 4])], 'a.png'));
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(await contentKey('https://example.com/a.png')).toBe('url:https://example.com/a.png');
  });

  it('finds an earlier reference with the same content, but not one that failed to upload', () => {
    const refs = [ref({ content: 'sha256:1' }), ref({ content: 'sha256:2', status: 'error' }), ref({ content: 'sha256:3', status: 'uploading' })];
    expect(duplicateOf(refs, 'sha256:1')).toBe(0);
    expect(duplicateOf(refs, 'sha256:2')).toBe(-1);
    expect(duplicateOf(refs, 'sha256:3')).toBe(2);
    expect(duplicateOf(refs, 'sha256:9')).toBe(-1);
  });
});

describe('session', () => {
  beforeEach(() => {
    vi.stubGlobal('localStorage', memoryStorage());
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is empty the first time and after unreadable storage', () => {
    expect(loadSession()).toEqual({ turns: [], selected: null, form: null });
    localStorage.setItem('reshoot.session', '{not json');
    expect(loadSession()).toEqual({ turns: [], selected: null, form: null });
  });

  it('saves the form and the turns separately, each keeping the other', () => {
    const form = { refs: [ref({ url: 'https://h/files/a.png' })], prompt: 'on slate', format: DEFAULT_FORMAT, scene: { size: 0.5 } };
    saveSession({ form });
    saveSession({ turns: [turn('t1'), turn('t2')], selected: 't2' });
    saveSession({ form: { ...form, prompt: 'on marble' } });
    const s = loadSession();
    expect(s.turns.map((t) => t.taskId)).toEqual(['t1', 't2']);
    expect(s.selected).toBe('t2');
    expect(s.form?.prompt).toBe('on marble');
    // a blob: preview dies with the page: the uploaded URL is shown instead
    expect(s.form?.refs[0]?.preview).toBe('https://h/files/a.png');
  });

  it('keeps only uploaded references that have not expired, and the last 60 turns', () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const future = past + 3600;
    const refs = [
      ref({ id: 'old', url: `https://h/files/a.png?expires=${past}` }),
      ref({ id: 'new', url: `https://h/files/b.png?expires=${future}` }),
      ref({ id: 'busy', status: 'uploading' }),
    ];
    saveSession({ form: { refs, prompt: '', format: DEFAULT_FORMAT, scene: null } });
    saveSession({ turns: Array.from({ length: 70 }, (_, i) => turn(`t${i}`, { beforeUrl: i === 69 ? 'blob:gone' : null })), selected: 't69' });
    const s = loadSession();
    expect(s.form?.refs.map((r) => r.id)).toEqual(['new']);
    expect(s.turns).toHaveLength(60);
    expect(s.turns[0]!.taskId).toBe('t10');
    expect(s.turns.at(-1)!.beforeUrl).toBeNull();
  });

  it('drops a selection that is not among the turns, and brings a stored format back to a valid one', () => {
    localStorage.setItem(
      'reshoot.session',
      JSON.stringify({ turns: [turn('t1'), { nope: 1 }], selected: 'gone', form: { refs: [], prompt: 'x', format: { model: DEFAULT_FORMAT.model, resolution: '4K' } } }),
    );
    const s = loadSession();
    expect(s.turns.map((t) => t.taskId)).toEqual(['t1']);
    expect(s.selected).toBeNull();
    expect(s.form?.format).toMatchObject({ aspectRatio: '1:1', resolution: '1K' });
  });

  it('keeps the tasks taken off the history list', () => {
    expect(loadHidden().size).toBe(0);
    saveHidden(new Set(['a', 'b']));
    expect([...loadHidden()].sort()).toEqual(['a', 'b']);
    saveHidden(new Set());
    expect(localStorage.getItem('reshoot.history.hidden')).toBeNull();
  });
});

describe('turns and history search', () => {
  it('compares a first shot with its source and every other turn with a result', () => {
    expect(beforeKindOf({ kind: 'new' })).toBe('source');
    expect(beforeKindOf({ kind: 'edit' })).toBe('result');
    expect(beforeKindOf({ kind: 'variant', beforeKind: 'source' })).toBe('source');
  });

  it('matches when every word appears in one of the fields, in any case', () => {
    expect(matchesSearch('', ['anything'])).toBe(true);
    expect(matchesSearch('SLATE steam', ['On a dark slate surface', 'steam · light from left'])).toBe(true);
    expect(matchesSearch('slate marble', ['On a dark slate surface', undefined, null])).toBe(false);
  });
});
