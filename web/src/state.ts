import type { AspectRatio, OutputFormat, Background, Resolution } from '../../src/contract/models.js';
import { MODELS, comboProblem } from '../../src/contract/models.js';
import type { ReferenceRole, StudioTaskInput, TaskObject } from './api.js';
import type { Box } from './image-box.js';

/** One reference image in the form: uploaded (or given by URL) and shown with a local preview. */
export interface Reference {
  id: string;
  name: string;
  /** what input_urls gets; null while uploading */
  url: string | null;
  /** what the page shows; an object URL for local files */
  preview: string;
  /** `auto`: the prompt and the image decide (the first image is the product) */
  role: ReferenceRole | 'auto';
  status: 'uploading' | 'ready' | 'error';
  error?: string;
  /** what the bytes are: `sha256:<hex>` of a file, `url:<link>` for a link (see contentKey) */
  content?: string;
  /** the image's size and the product's box in it, once measured (see image-box.ts) */
  measured?: { width: number; height: number; box: Box | null };
}

/** What a create call sent, kept so edits, variants and aspect sets can re-send it with one change. */
export interface SentRequest {
  model: string;
  input: StudioTaskInput;
  /** the top-level route (the engine), when one was picked; later turns of a task keep its route */
  route?: string;
}

/** One render the user asked for: a first shot, an edit of another turn, or one picked from a batch. */
export interface Turn {
  taskId: string;
  parentId: string | null;
  kind: 'new' | 'edit' | 'variant' | 'aspect' | 'reframe' | 'history' | 'matte';
  prompt: string;
  /** the image the result is compared against: the product for a first turn, the parent's result for an edit */
  beforeUrl: string | null;
  /** `source`: beforeUrl is the product photo, shown where the result placed it; `result`: an earlier render of the same frame */
  beforeKind?: 'source' | 'result';
  request: SentRequest | null;
  /** `matte`: rendered from a fixed cutout; the task whose reference is the untouched photo it was painted on */
  matteFrom?: string;
}

export interface Batch {
  kind: 'variants' | 'aspects';
  fromTaskId: string;
  items: { taskId: string; label: string; request: SentRequest }[];
}

export interface FormatChoice {
  model: string;
  aspectRatio: AspectRatio;
  resolution: Resolution;
  outputFormat: OutputFormat;
  background: Background;
  /** blank means a fresh random seed per render */
  seed: string;
}

/** The models a person picks from: the canonical names (the slashed alias is the same model). */
export const STUDIO_MODELS = ['gpt-image-2-image-to-image', 'gpt-image-2-image-to-image-pro'] as const;

export const DEFAULT_FORMAT: FormatChoice = {
  model: 'gpt-image-2-image-to-image',
  aspectRatio: '1:1',
  resolution: '1K',
  outputFormat: 'png',
  background: 'auto',
  seed: '',
};

/** Brings a choice back to a valid combination after the model changed, keeping what still fits. */
export function fitFormat(choice: FormatChoice): FormatChoice {
  const spec = MODELS[choice.model] ?? MODELS[DEFAULT_FORMAT.model]!;
  let { aspectRatio, resolution } = choice;
  if (!spec.aspectRatios.includes(aspectRatio)) aspectRatio = spec.aspectRatios.includes('1:1') ? '1:1' : spec.defaultAspectRatio;
  if (!spec.resolutions.includes(resolution)) resolution = spec.defaultResolution;
  if (comboProblem(spec, aspectRatio, resolution)) resolution = spec.defaultResolution;
  return { ...choice, model: spec.name, aspectRatio, resolution };
}

/**
 * `input.roles` for the Pro model: up to the last reference given a role by hand, so the server still
 * decides for the rest; an Auto before that becomes a product (the documented default).
 */
export function rolesFor(refs: readonly Pick<Reference, 'role'>[]): ReferenceRole[] | undefined {
  let last = -1;
  refs.forEach((r, i) => {
    if (r.role !== 'auto') last = i;
  });
  if (last < 0) return undefined;
  return refs.slice(0, last + 1).map((r) => (r.role === 'auto' ? 'product' : r.role));
}

export function randomSeed(): number {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  return buf[0]! % 2_147_483_647;
}

/** The seed a render will use: the typed one, or a fresh random one so the request is reproducible later. */
export function pickSeed(typed: string): number {
  const n = Number(typed);
  return typed.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : randomSeed();
}

/** What a turn's before image is when it does not say (turns saved before beforeKind existed). */
export function beforeKindOf(turn: Pick<Turn, 'kind' | 'beforeKind'>): 'source' | 'result' {
  return turn.beforeKind ?? (turn.kind === 'new' ? 'source' : 'result');
}

/**
 * A key for a reference's content: the SHA-256 of a file's bytes (crypto.subtle; only in a secure
 * context, which localhost is), else its name, size and date; a link is its URL.
 */
export async function contentKey(source: Blob | string): Promise<string> {
  if (typeof source === 'string') return `url:${source}`;
  if (globalThis.crypto?.subtle) {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await source.arrayBuffer()));
    return `sha256:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
  const file = source as Partial<File>;
  return `file:${file.name ?? ''}:${source.size}:${file.lastModified ?? 0}`;
}

/** The 0-based index of a reference with the same content, or -1. */
export function duplicateOf(refs: readonly Pick<Reference, 'content' | 'status'>[], content: string): number {
  return refs.findIndex((r) => r.status !== 'error' && r.content === content);
}

export function isTerminal(task: TaskObject | undefined): boolean {
  return task?.status === 'success' || task?.status === 'fail';
}

/** Absolute URL: input_urls must be http(s), and the server may answer with a path. */
export function absoluteUrl(url: string): string {
  return new URL(url, window.location.href).toString();
}

const SESSION_KEY = 'reshoot.session';
const MAX_SAVED_TURNS = 60;

/** The form as it was left: references already on the server, prompt, output choice and fine controls. */
export interface SavedForm {
  refs: Reference[];
  prompt: string;
  format: FormatChoice;
  scene: unknown;
}

export interface Session {
  turns: Turn[];
  selected: string | null;
  form: SavedForm | null;
}

/** Our signed file URLs carry `expires` (Unix seconds); an upload past it cannot be used again. */
function expired(url: string | null): boolean {
  if (!url) return true;
  try {
    const exp = Number(new URL(url).searchParams.get('expires'));
    return exp > 0 && exp * 1000 < Date.now();
  } catch {
    return true;
  }
}

/** The studio as it was left in this browser, so a reload or a closed tab does not lose the work. */
export function loadSession(): Session {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return { turns: [], selected: null, form: null };
    const data = JSON.parse(raw) as Partial<Session>;
    const turns = Array.isArray(data.turns) ? data.turns.filter((t) => typeof t?.taskId === 'string') : [];
    const selected = typeof data.selected === 'string' && turns.some((t) => t.taskId === data.selected) ? data.selected : null;
    const f = data.form;
    const form =
      f && Array.isArray(f.refs) && typeof f.prompt === 'string' && f.format && typeof f.format.model === 'string'
        ? { ...f, refs: f.refs.filter((r) => !expired(r.url)), format: fitFormat({ ...DEFAULT_FORMAT, ...f.format }) }
        : null;
    return { turns, selected, form };
  } catch {
    return { turns: [], selected: null, form: null };
  }
}

/**
 * Saves part of the session (the form, or the turns and the selection) and keeps the rest as stored:
 * the form and the stage save on their own.
 */
export function saveSession(part: Partial<Session>): void {
  try {
    const stored = JSON.parse(localStorage.getItem(SESSION_KEY) ?? '{}') as Partial<Session>;
    const next: Partial<Session> = { ...stored };
    if (part.turns) {
      // blob: previews die with the page; keep only URLs that will still load.
      next.turns = part.turns.slice(-MAX_SAVED_TURNS).map((t) => (t.beforeUrl?.startsWith('blob:') ? { ...t, beforeUrl: null } : t));
    }
    if (part.selected !== undefined) next.selected = part.selected;
    if (part.form !== undefined) {
      next.form = part.form && {
        ...part.form,
        refs: part.form.refs
          .filter((r) => r.status === 'ready' && r.url)
          .map((r) => ({ ...r, preview: r.preview.startsWith('blob:') ? r.url! : r.preview })),
      };
    }
    localStorage.setItem(SESSION_KEY, JSON.stringify(next));
  } catch {
    // Storage full or refused: the session simply is not kept.
  }
}

export function clearSession(): void {
  try {
    localStorage.removeItem(SESSION_KEY);
  } catch {
    // nothing to clear
  }
}

const HIDDEN_KEY = 'reshoot.history.hidden';

/** Tasks taken off this browser's history list (the API keeps them until they expire). */
export function loadHidden(): Set<string> {
  try {
    const ids = JSON.parse(localStorage.getItem(HIDDEN_KEY) ?? '[]') as unknown;
    return new Set(Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

export function saveHidden(ids: ReadonlySet<string>): void {
  try {
    if (ids.size) localStorage.setItem(HIDDEN_KEY, JSON.stringify([...ids]));
    else localStorage.removeItem(HIDDEN_KEY);
  } catch {
    // not kept: the list shows them again next time
  }
}

/** Whether a history entry matches a search: every word appears in its prompt, caption, status or id. */
export function matchesSearch(query: string, fields: readonly (string | null | undefined)[]): boolean {
  const hay = fields.filter(Boolean).join(' ').toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}
