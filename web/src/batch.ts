import { MODELS, comboProblem, type AspectRatio, type Resolution } from '../../src/contract/models.js';
import { priceFor, type PriceRow } from '../../src/contract/pricing.js';
import { readableFields } from './messages.js';

/**
 * A studio batch: every file × every prompt × every ratio, one task each. The pure part lives here
 * (the matrix, the names in the zip, the quote, the bounded runner); components/batch-view.tsx
 * owns the page.
 */

/** How many tasks a batch keeps in flight at once. */
export const BATCH_IN_FLIGHT = 3;
/** The most tasks one batch may create (the matrix is checked before anything is sent). */
export const BATCH_MAX_ITEMS = 500;

export interface BatchSettings {
  model: string;
  resolution: Resolution;
  prompts: readonly string[];
  ratios: readonly AspectRatio[];
}

export interface BatchItemPlan {
  /** stable within the batch: `file index:prompt index:ratio` */
  id: string;
  fileIndex: number;
  prompt: string;
  ratio: AspectRatio;
  /** the entry's path in the zip without its extension: `<file stem>/<prompt slug>-<ratio>` */
  name: string;
}

export interface BatchPlan {
  items: BatchItemPlan[];
  /** what stops the batch from starting, in words; empty when it may start */
  problems: string[];
}

/** The prompts typed one per line: trimmed, blank lines and repeats dropped. */
export function parsePrompts(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const p = line.trim().replace(/\s+/g, ' ');
    if (p && !seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  }
  return out;
}

/** A file or folder name safe on every desktop system: ASCII letters, digits, dots, dashes and underscores. */
function safeName(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
}

/** A prompt as a short file name: its first words, lower case, joined by dashes (at most 48 characters). */
export function promptSlug(prompt: string): string {
  const words = safeName(prompt.toLowerCase()).split(/[-._]+/).filter(Boolean);
  let out = '';
  for (const w of words) {
    const next = out ? `${out}-${w}` : w;
    if (next.length > 48) break;
    out = next;
  }
  return out || (words[0]?.slice(0, 48) ?? '') || 'prompt';
}

/** A file's name without its folder and extension, made safe. */
export function fileStem(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? filename;
  const dot = base.lastIndexOf('.');
  return safeName(dot > 0 ? base.slice(0, dot) : base) || 'image';
}

/** `4:5` → `4x5` (a colon is not allowed in Windows file names). */
export function ratioTag(ratio: AspectRatio): string {
  return ratio.replace(':', 'x');
}

/** Makes each name unique by adding `-2`, `-3`, … to repeats, in order. */
function uniqueNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    let name = n;
    for (let i = 2; used.has(name.toLowerCase()); i++) name = `${n}-${i}`;
    used.add(name.toLowerCase());
    return name;
  });
}

/**
 * The batch's matrix, files outermost, then prompts, then ratios, with unique names in the zip
 * (file stems and prompt slugs are each made unique, so `<stem>/<slug>-<ratio>` is). Every
 * ratio × resolution pair is checked against the model's rules before anything is sent.
 */
export function planBatch(files: readonly { name: string }[], settings: BatchSettings): BatchPlan {
  const problems: string[] = [];
  const spec = MODELS[settings.model];
  if (!spec) problems.push(`Unknown model ${settings.model}.`);
  if (files.length === 0) problems.push('Add at least one image.');
  if (settings.prompts.length === 0) problems.push('Write at least one prompt.');
  if (settings.ratios.length === 0) problems.push('Pick at least one aspect ratio.');
  if (spec) {
    for (const r of settings.ratios) {
      const problem = comboProblem(spec, r, settings.resolution);
      if (problem) problems.push(`${r} at ${settings.resolution}: ${readableFields(problem)}.`);
    }
  }
  const count = files.length * settings.prompts.length * settings.ratios.length;
  if (count > BATCH_MAX_ITEMS) problems.push(`${count} renders is more than the ${BATCH_MAX_ITEMS} one batch may hold; split it.`);

  const stems = uniqueNames(files.map((f) => fileStem(f.name)));
  const slugs = uniqueNames(settings.prompts.map(promptSlug));
  const items: BatchItemPlan[] = [];
  if (count <= BATCH_MAX_ITEMS) {
    files.forEach((_, fi) => {
      settings.prompts.forEach((prompt, pi) => {
        for (const ratio of settings.ratios) {
          items.push({ id: `${fi}:${pi}:${ratio}`, fileIndex: fi, prompt, ratio, name: `${stems[fi]}/${slugs[pi]}-${ratioTag(ratio)}` });
        }
      });
    });
  }
  return { items, problems };
}

/** The task input one item sends (after its file is uploaded); the quote prices this same object. */
export function itemInput(item: BatchItemPlan, resolution: Resolution, url: string) {
  return { prompt: item.prompt, input_urls: [url], aspect_ratio: item.ratio, resolution };
}

export interface BatchQuote {
  /** USD per item, in the plan's order; undefined where no price row names the model */
  perItem: Array<number | undefined>;
  total: number;
  /** true when some item has no price (the server's table does not name the model) */
  unpriced: boolean;
}

/**
 * What the batch will cost by the server's own price rows (`GET /api/pricing`), priced as the server
 * prices each task; `route`: the engine every item renders with (its `model@route` row when there is one).
 */
export function quoteBatch(rows: readonly PriceRow[], model: string, resolution: Resolution, items: readonly BatchItemPlan[], route?: string): BatchQuote {
  // the price depends on the input's fields, not on the upload's URL
  const perItem = items.map((item) => priceFor(rows, model, itemInput(item, resolution, 'upload'), route));
  const total = perItem.reduce<number>((sum, p) => sum + (p ?? 0), 0);
  return { perItem, total: Math.round(total * 1e6) / 1e6, unpriced: perItem.some((p) => p === undefined) };
}

/** `$1.20`, or `zero` (`free` unless told) for nothing; fractions of a cent keep their digits. */
export function formatUsd(usd: number, zero = 'free'): string {
  if (usd === 0) return zero;
  const digits = Math.abs(usd) < 0.1 && Math.round(usd * 100) !== usd * 100 ? 4 : 2;
  return `$${usd.toFixed(digits)}`;
}

/** The zip entry's extension for an output's content type. */
export function extensionFor(contentType: string): string {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'image/jpeg') return 'jpg';
  if (type === 'image/webp') return 'webp';
  return 'png';
}

/**
 * Runs `work` over `items` with at most `limit` at once, in order of the list. Resolves when every
 * item has settled; `work` reports its own failures (one item's failure does not stop the others).
 * `signal` stops new items from starting.
 */
export async function runBounded<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length && !signal?.aborted) {
      const item = items[next++]!;
      await work(item).catch(() => undefined);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/** Image files among dropped or picked files (by type, or by extension where the browser gives no type). */
export function isImageFile(f: { name: string; type: string }): boolean {
  if (f.type) return f.type.startsWith('image/');
  return /\.(png|jpe?g|webp|avif|gif|tiff?|heic)$/i.test(f.name);
}
