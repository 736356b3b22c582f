import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { OUTPUT_EXTENSIONS } from '../../contract/models.js';
import type { TaskInput } from '../../contract/validate.js';
import { checkInput, formatFor, isRemoteRef, type InputFlags } from '../shared.js';

/**
 * The job list of a batch: images × prompts × ratios, from a folder or a CSV/JSONL manifest.
 * Every item gets a stable key (what it is) and a stable, readable output name (where it goes), so a
 * re-run finds the same items under the same names.
 */

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff']);

export interface BatchOptions {
  model: string;
  prompts: string[];
  aspectRatios: string[];
  resolution?: string;
  seed?: number;
  background?: string;
  format?: string;
  /** the top-level `route` every task is created with (the engine); left out when not given */
  route?: string;
  /** `input.lock` for generative routes */
  lock?: string;
}

export interface BatchItem {
  /** stable identity: model, image, prompt, ratio, resolution, seed, format (and route and lock when given) */
  key: string;
  /** absolute path, or a URL from a manifest */
  image: string;
  name: string;
  prompt: string;
  aspectRatio?: string;
  resolution?: string;
  /** output file name inside the output directory */
  out: string;
  flags: InputFlags;
  /** the checked input (defaults filled in), or the reason it was refused */
  input?: TaskInput;
  invalid?: string;
}

interface Row {
  /** absolute path or URL */
  image: string;
  /** the image as the input names it (relative to the folder or manifest), for the item key */
  ref: string;
  prompt?: string;
  aspect_ratio?: string;
  resolution?: string;
  name?: string;
  /** where the row came from, for messages */
  where: string;
}

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : undefined);

function readManifest(file: string): Row[] {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const base = path.dirname(path.resolve(file));
  const resolveImage = (s: string) => (isRemoteRef(s) ? s : path.resolve(base, s));
  const ref = (abs: string) => (isRemoteRef(abs) ? abs : path.relative(base, abs));
  const rows: Row[] = [];
  if (/\.jsonl?$/i.test(file)) {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`, { cause: err });
      }
      const image = str(o.image);
      if (!image) throw new Error(`${file}:${i + 1}: "image" is required`);
      rows.push({ image: resolveImage(image), ref: ref(resolveImage(image)), prompt: str(o.prompt), aspect_ratio: str(o.aspect_ratio), resolution: str(o.resolution), name: str(o.name), where: `${path.basename(file)}:${i + 1}` });
    });
    return rows;
  }
  const [header, ...body] = parseCsv(text);
  if (!header) throw new Error(`${file}: empty manifest`);
  const cols = header.map((h) => h.trim().toLowerCase());
  if (!cols.includes('image')) throw new Error(`${file}: the header needs an "image" column (found: ${cols.join(', ')})`);
  body.forEach((cells, i) => {
    const get = (c: string) => str(cells[cols.indexOf(c)]);
    const image = get('image');
    if (!image) throw new Error(`${file}:${i + 2}: "image" is empty`);
    rows.push({ image: resolveImage(image), ref: ref(resolveImage(image)), prompt: get('prompt'), aspect_ratio: get('aspect_ratio'), resolution: get('resolution'), name: get('name'), where: `${path.basename(file)}:${i + 2}` });
  });
  return rows;
}

function readFolder(dir: string): Row[] {
  return readdirSync(dir)
    .filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()) && !f.startsWith('.'))
    .sort()
    .map((f) => ({ image: path.resolve(dir, f), ref: f, where: f }))
    .filter((r) => statSync(r.image).isFile());
}

/** Lowercase words joined by dashes, at most `max` characters, cut at a word boundary. */
export function slug(s: string, max = 40): string {
  const words = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  let out = '';
  for (const w of words) {
    const next = out ? `${out}-${w}` : w;
    if (next.length > max) break;
    out = next;
  }
  return out || (words[0] ?? '').slice(0, max) || 'x';
}

const short = (s: string, n = 4) => createHash('sha256').update(s).digest('hex').slice(0, n);

/**
 * The words part of each prompt's output name. Prompts whose first words fill the whole slug alike
 * ("dark slate, moody rim light, close crop" / "…, wide crop") keep their first two words and then
 * the words where they part, so the names differ in words and not only in the hash after them.
 * It depends only on the set of prompts, so the same command names its outputs the same way.
 */
export function promptSlugs(prompts: readonly string[], max = 40): Map<string, string> {
  const words = (p: string) => slug(p, Number.MAX_SAFE_INTEGER).split('-');
  const distinct = [...new Set(prompts)];
  const out = new Map<string, string>();
  for (const p of distinct) {
    const base = slug(p, max);
    const mine = words(p);
    // how many leading words this prompt shares with the closest other prompt of the same name
    let shared = 0;
    for (const q of distinct) {
      if (q === p || slug(q, max) !== base) continue;
      const theirs = words(q);
      let k = 0;
      while (k < mine.length && k < theirs.length && mine[k] === theirs[k]) k++;
      shared = Math.max(shared, k);
    }
    if (shared === 0 || shared >= mine.length) out.set(p, base);
    else {
      const lead = mine.slice(0, Math.min(2, shared)).join('-');
      out.set(p, `${lead}-${slug(mine.slice(shared).join(' '), Math.max(8, max - lead.length - 1))}`);
    }
  }
  return out;
}

/** Builds the job list; throws (exit 1) for an unreadable INPUT or rows without a prompt. */
export function collectJobs(input: string, opts: BatchOptions): BatchItem[] {
  let st;
  try {
    st = statSync(input);
  } catch {
    throw new Error(`${input}: no such folder or manifest`);
  }
  const rows = st.isDirectory() ? readFolder(input) : readManifest(input);
  if (rows.length === 0) throw new Error(`${input}: no images found (${[...IMAGE_EXTENSIONS].join(' ')})`);

  const format = formatFor(opts.format, undefined) ?? 'png';
  const promptNames = promptSlugs([...opts.prompts, ...rows.flatMap((r) => (r.prompt ? [r.prompt] : []))]);
  const items: BatchItem[] = [];
  const taken = new Map<string, number>();
  const keys = new Set<string>();
  for (const row of rows) {
    const prompts = row.prompt ? [row.prompt] : opts.prompts;
    if (prompts.length === 0) throw new Error(`${row.where}: no prompt (give --prompt, --prompts FILE or a prompt column)`);
    const ratios: Array<string | undefined> = row.aspect_ratio ? [row.aspect_ratio] : opts.aspectRatios.length ? opts.aspectRatios : [undefined];
    const resolution = row.resolution ?? opts.resolution;
    const name = row.name ?? path.basename(row.image.split('?')[0]!).replace(/\.[^.]+$/, '');
    for (const prompt of prompts) {
      for (const aspectRatio of ratios) {
        const flags: InputFlags = { prompt, aspectRatio, resolution, seed: opts.seed, background: opts.background, format: opts.format, lock: opts.lock };
        let checked: TaskInput | undefined;
        let invalid: string | undefined;
        try {
          checked = checkInput(opts.model, flags, 1);
        } catch (err) {
          invalid = (err as Error).message;
        }
        const ratioPart = (checked?.aspect_ratio ?? aspectRatio ?? 'default').replace(':', 'x');
        const resPart = (checked?.resolution ?? resolution ?? '').toLowerCase();
        // route and lock join the key only when given, so batches from before them keep their keys
        const keyParts = [opts.model, row.ref, prompt, aspectRatio ?? '', resolution ?? '', opts.seed ?? '', opts.background ?? '', format, ...(opts.route || opts.lock ? [opts.route ?? '', opts.lock ?? ''] : [])];
        const key = createHash('sha256').update(JSON.stringify(keyParts)).digest('hex').slice(0, 20);
        // the same row twice is one item, not two
        if (keys.has(key)) continue;
        keys.add(key);
        // an engine asked for by name is in the name, so one folder can hold a studio and a generative run
        const routePart = opts.route && opts.route !== 'default' ? `--${opts.route}` : '';
        let stem = `${slug(name, 48)}--${promptNames.get(prompt) ?? slug(prompt)}-${short(prompt)}--${ratioPart}${resPart ? `-${resPart}` : ''}${routePart}`;
        const n = (taken.get(stem) ?? 0) + 1;
        taken.set(stem, n);
        if (n > 1) stem = `${stem}-${n}`;
        items.push({ key, image: row.image, name, prompt, aspectRatio, resolution, out: `${stem}.${OUTPUT_EXTENSIONS[format]}`, flags, input: checked, invalid });
      }
    }
  }
  return items;
}

/** One prompt per line; blank lines and lines starting with # are skipped. */
export function readPromptsFile(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Run order: one item per image in turn (round-robin), so items running side by side use different
 * images and every later variant of an image finds its mask in the engine's cache instead of two
 * threads segmenting the same packshot at once.
 */
export function interleaveByImage(items: BatchItem[]): BatchItem[] {
  const groups = new Map<string, BatchItem[]>();
  for (const item of items) {
    const g = groups.get(item.image);
    if (g) g.push(item);
    else groups.set(item.image, [item]);
  }
  const out: BatchItem[] = [];
  for (let k = 0; out.length < items.length; k++) {
    for (const g of groups.values()) {
      const item = g[k];
      if (item) out.push(item);
    }
  }
  return out;
}
