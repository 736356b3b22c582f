import type { Reference, Turn } from './state.js';

/**
 * The pure part of Fix cutout: a matte (one alpha byte a pixel, at the reference's size) edited by
 * round brush strokes, with undo, and the RGBA reference it becomes (the photo's pixels and the
 * edited alpha) as PNG bytes. No DOM here, so it is tested as it runs in the page.
 */

export type BrushMode = 'erase' | 'restore';

export interface Point {
  x: number;
  y: number;
}

/** A rectangle in matte pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Matte {
  width: number;
  height: number;
  alpha: Uint8Array;
}

/** The pixels a stroke segment from `a` to `b` can touch, clipped to the matte; null when none. */
export function segmentBounds(m: Pick<Matte, 'width' | 'height'>, a: Point, b: Point, radius: number): Rect | null {
  const pad = radius + 1;
  const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - pad));
  const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - pad));
  const x1 = Math.min(m.width, Math.ceil(Math.max(a.x, b.x) + pad));
  const y1 = Math.min(m.height, Math.ceil(Math.max(a.y, b.y) + pad));
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}

/**
 * Paints one segment of a stroke: a capsule of `radius` matte pixels around the line from `a` to `b`
 * (a dot when they are equal), with a one-pixel anti-aliased rim. Erase lowers alpha towards 0
 * (background), restore raises it towards 255 (product); a pixel is never moved the other way, so
 * going over the same place twice changes nothing more. Returns what changed (null: nothing could).
 */
export function paintSegment(m: Matte, a: Point, b: Point, radius: number, mode: BrushMode): Rect | null {
  const box = segmentBounds(m, a, b, radius);
  if (!box) return null;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  for (let y = box.y; y < box.y + box.height; y++) {
    const py = y + 0.5;
    for (let x = box.x; x < box.x + box.width; x++) {
      const px = x + 0.5;
      // distance from the pixel's centre to the segment
      const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / len2)) : 0;
      const ex = px - (a.x + t * dx);
      const ey = py - (a.y + t * dy);
      const cover = Math.max(0, Math.min(1, radius + 0.5 - Math.sqrt(ex * ex + ey * ey)));
      if (cover === 0) continue;
      const i = y * m.width + x;
      const v = m.alpha[i]!;
      m.alpha[i] = mode === 'erase' ? Math.min(v, Math.round(255 * (1 - cover))) : Math.max(v, Math.round(255 * cover));
    }
  }
  return box;
}

/** The smallest rectangle holding both (either may be null). */
export function unionRect(a: Rect | null, b: Rect | null): Rect | null {
  if (!a) return b;
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

function copyRect(src: Uint8Array, stride: number, r: Rect): Uint8Array {
  const out = new Uint8Array(r.width * r.height);
  for (let y = 0; y < r.height; y++) out.set(src.subarray((r.y + y) * stride + r.x, (r.y + y) * stride + r.x + r.width), y * r.width);
  return out;
}

function pasteRect(dst: Uint8Array, stride: number, r: Rect, patch: Uint8Array): void {
  for (let y = 0; y < r.height; y++) dst.set(patch.subarray(y * r.width, (y + 1) * r.width), (r.y + y) * stride + r.x);
}

/** One undoable step: the rectangle it changed and its pixels before and after. */
interface Step {
  rect: Rect;
  before: Uint8Array;
  after: Uint8Array;
}

/**
 * A matte being edited: strokes (begin, extend, end), reset to the matte it started from, undo and
 * redo. Each step keeps only the rectangle it changed, so a long session on a 12 MP photo holds the
 * strokes' areas rather than a copy of the frame per step; at most `limit` steps are kept.
 */
export class MatteEditor {
  readonly width: number;
  readonly height: number;
  /** the current alpha, edited in place */
  readonly alpha: Uint8Array;
  private readonly original: Uint8Array;
  private readonly done: Step[] = [];
  private readonly undone: Step[] = [];
  /** the alpha as the stroke in progress found it, and the area it has touched */
  private strokeBase: Uint8Array | null = null;
  private strokeRect: Rect | null = null;
  private last: Point | null = null;

  constructor(
    matte: Matte,
    private readonly limit = 50,
  ) {
    this.width = matte.width;
    this.height = matte.height;
    this.alpha = new Uint8Array(matte.alpha);
    this.original = new Uint8Array(matte.alpha);
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** whether the alpha differs from the matte the editor started with */
  get edited(): boolean {
    for (let i = 0; i < this.alpha.length; i++) if (this.alpha[i] !== this.original[i]) return true;
    return false;
  }

  /** Starts a stroke with a dot at `p`; returns the area that changed. */
  begin(p: Point, radius: number, mode: BrushMode): Rect | null {
    this.end();
    this.strokeBase = new Uint8Array(this.alpha);
    this.strokeRect = null;
    this.last = p;
    return this.extend(p, radius, mode);
  }

  /** Continues the stroke from its last point to `p`. */
  extend(p: Point, radius: number, mode: BrushMode): Rect | null {
    if (!this.strokeBase || !this.last) return null;
    const r = paintSegment({ width: this.width, height: this.height, alpha: this.alpha }, this.last, p, radius, mode);
    this.last = p;
    this.strokeRect = unionRect(this.strokeRect, r);
    return r;
  }

  /** Ends the stroke in progress as one undoable step (nothing when it changed nothing). */
  end(): void {
    const base = this.strokeBase;
    const rect = this.strokeRect;
    this.strokeBase = null;
    this.strokeRect = null;
    this.last = null;
    if (!base || !rect) return;
    this.record(rect, copyRect(base, this.width, rect));
  }

  /** Back to the matte the editor started with, as one undoable step. */
  reset(): Rect | null {
    this.end();
    const rect: Rect = { x: 0, y: 0, width: this.width, height: this.height };
    if (!this.edited) return null;
    const before = new Uint8Array(this.alpha);
    this.alpha.set(this.original);
    this.record(rect, before);
    return rect;
  }

  undo(): Rect | null {
    this.end();
    const step = this.done.pop();
    if (!step) return null;
    pasteRect(this.alpha, this.width, step.rect, step.before);
    this.undone.push(step);
    return step.rect;
  }

  redo(): Rect | null {
    this.end();
    const step = this.undone.pop();
    if (!step) return null;
    pasteRect(this.alpha, this.width, step.rect, step.after);
    this.done.push(step);
    return step.rect;
  }

  private record(rect: Rect, before: Uint8Array): void {
    const after = copyRect(this.alpha, this.width, rect);
    if (before.every((v, i) => v === after[i])) return;
    this.done.push({ rect, before, after });
    if (this.done.length > this.limit) this.done.shift();
    this.undone.length = 0;
  }
}

/**
 * The tint shown over the photo where the matte says background: red, as strong as the pixel is
 * transparent (`strength` at alpha 0), clear over the product. Writes RGBA into `out` for `rect`
 * (`out` is the rectangle's own pixels, row by row).
 */
export function tintRect(alpha: Uint8Array, stride: number, rect: Rect, out: Uint8ClampedArray, strength = 0.62): void {
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const a = alpha[(rect.y + y) * stride + rect.x + x]!;
      const o = (y * rect.width + x) * 4;
      out[o] = 235;
      out[o + 1] = 38;
      out[o + 2] = 64;
      out[o + 3] = Math.round((255 - a) * strength);
    }
  }
}

/**
 * The cutout as it will be placed: the photo's pixels with the edited alpha, for `rect`, into `out`
 * (the rectangle's own RGBA pixels), shown over a checker.
 */
export function cutoutRect(photo: Uint8ClampedArray | Uint8Array, alpha: Uint8Array, stride: number, rect: Rect, out: Uint8ClampedArray): void {
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const i = (rect.y + y) * stride + rect.x + x;
      const o = (y * rect.width + x) * 4;
      out[o] = photo[i * 4]!;
      out[o + 1] = photo[i * 4 + 1]!;
      out[o + 2] = photo[i * 4 + 2]!;
      out[o + 3] = alpha[i]!;
    }
  }
}

/**
 * The reference the studio uploads: the photo's RGB (from an opaque RGBA frame) under the edited
 * alpha. Fully transparent pixels get black, so the background costs next to nothing in the PNG.
 */
export function composeRgba(photo: Uint8ClampedArray | Uint8Array, alpha: Uint8Array): Uint8Array {
  const out = new Uint8Array(alpha.length * 4);
  for (let i = 0; i < alpha.length; i++) {
    const a = alpha[i]!;
    if (a === 0) continue;
    out[i * 4] = photo[i * 4]!;
    out[i * 4 + 1] = photo[i * 4 + 1]!;
    out[i * 4 + 2] = photo[i * 4 + 2]!;
    out[i * 4 + 3] = a;
  }
  return out;
}

/** One channel of an RGBA frame (a grey matte drawn on a canvas: any of R, G, B). */
export function channelOf(rgba: Uint8ClampedArray | Uint8Array, channel = 0): Uint8Array {
  const out = new Uint8Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4 + channel]!;
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const name = new TextEncoder().encode(type);
  out.set(name, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32([name, data]));
  return out;
}

async function zlib(data: Uint8Array): Promise<Uint8Array> {
  // CompressionStream('deflate') writes the zlib format (RFC 1950) that PNG's IDAT holds
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * An 8-bit RGBA PNG of exactly these pixels. The canvas's own encoder would premultiply them
 * (semi-transparent edge colours rounded, transparent ones lost); this keeps every byte. Each row
 * uses the Sub filter, which suits photographs.
 */
export async function encodePng(rgba: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1) + 1;
    const row = y * stride;
    raw[o - 1] = 1;
    // Sub: each byte minus the same channel of the pixel to its left (a Uint8Array wraps mod 256)
    raw.set(rgba.subarray(row, row + 4), o);
    for (let i = 4; i < stride; i++) raw[o + i] = rgba[row + i]! - rgba[row + i - 4]!;
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', await zlib(raw)), chunk('IEND', new Uint8Array())];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The task whose reference is the untouched photo for a turn's Fix cutout: the turn's own, unless
 * the turn or one it was built on was rendered from a fixed cutout (whose transparent pixels no
 * longer hold the photo), then the task that fix started from.
 */
export function photoTaskFor(turns: readonly Pick<Turn, 'taskId' | 'parentId' | 'matteFrom'>[], taskId: string): string {
  const byId = new Map(turns.map((t) => [t.taskId, t]));
  const seen = new Set<string>();
  for (let t = byId.get(taskId); t && !seen.has(t.taskId); t = t.parentId ? byId.get(t.parentId) : undefined) {
    seen.add(t.taskId);
    if (t.matteFrom) return t.matteFrom;
  }
  return taskId;
}

/**
 * The URLs the first reference had along a turn's chain, from the turn up to its first: an earlier
 * fixed cutout's, the photo's. The form holds one of them when it still shows that product.
 */
export function referenceUrls(turns: readonly Pick<Turn, 'taskId' | 'parentId' | 'request'>[], taskId: string): string[] {
  const byId = new Map(turns.map((t) => [t.taskId, t]));
  const out: string[] = [];
  const seen = new Set<string>();
  for (let t = byId.get(taskId); t && !seen.has(t.taskId); t = t.parentId ? byId.get(t.parentId) : undefined) {
    seen.add(t.taskId);
    const url = t.request?.input.input_urls[0];
    if (url && !out.includes(url)) out.push(url);
  }
  return out;
}

/** The page-wide event a saved Fix cutout sends, so the form's reference it was painted on is replaced. */
export const FIXED_CUTOUT_EVENT = 'reshoot:fixed-cutout';

/** What a saved Fix cutout tells the form: the reference's URL it was painted on, and the fixed one. */
export interface FixedCutout {
  /** the first reference's URLs along the turn's chain (referenceUrls): the form may hold any of them */
  from: string[];
  url: string;
  preview: string;
  content: string;
}

/**
 * The form's references with the one a fixed cutout was painted on (by its URL) replaced by the
 * fixed reference, so a new render from the form uses the fixed cutout too. Unchanged when the form
 * no longer holds that reference.
 */
export function withFixedCutout(refs: readonly Reference[], fixed: FixedCutout): Reference[] {
  const mark = ' (cutout fixed)';
  return refs.map((r) =>
    r.url !== null && fixed.from.includes(r.url)
      ? { ...r, url: fixed.url, preview: fixed.preview, content: fixed.content, name: r.name.endsWith(mark) ? r.name : `${r.name}${mark}`, measured: undefined, status: 'ready' }
      : r,
  );
}
