import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Box, Mask8, Rgba8 } from '../raster/types.js';
import { checksum64, contentHash } from '../hash.js';

/**
 * Matte cache on disk, keyed by a hash of the decoded pixels. An entry holds the alpha as runs (a
 * product matte is long runs of 0 and 255 with a thin band of edge values between them) plus the
 * decontaminated colours of the edge pixels, so a hit rebuilds the whole cutout without the model and
 * a 12 MP entry is a few hundred KB that is read, checked and returned in a few milliseconds; the
 * full-size planes are only built when someone reads them. Writes are atomic (temp file + rename)
 * because several engine threads share the directory; the total size is bounded by evicting the
 * least recently used entries.
 */
export interface MaskCache {
  key(pixels: Buffer, width: number, height: number, salt: string): string;
  get(key: string, width: number, height: number): Promise<EncodedMatte | null>;
  put(key: string, matte: EncodedMatte): Promise<void>;
}

/** A matte in the cache's run-length form; see encodeMatte. */
export interface EncodedMatte {
  width: number;
  height: number;
  /** bounding box of alpha > 8 (what the product visibly covers); the whole frame when nothing is */
  box: Box;
  /**
   * the alpha in pixel order as tokens, each a varint `length * 4 + kind`: kind 0 is `length` pixels
   * of alpha 0, kind 1 of alpha 255, kind 2 is followed by `length` bytes of alpha 1..254 (edge pixels)
   */
  runs: Buffer;
  /** RGB of every edge pixel (0 < alpha < 255), in pixel order */
  edgeColours: Buffer;
  /** the side the model ran at (absent in entries written before it was recorded) */
  modelSize?: number;
}

const ZERO = 0, OPAQUE = 1, EDGE = 2;
/** alpha above this counts towards the box (the engine crops products to it) */
const BOX_ALPHA = 8;

/**
 * Encodes a full-frame alpha and the RGBA foreground it belongs to (only edge pixels' colours are
 * kept). `box` is the alpha's matteBox when the caller has it already.
 */
export function encodeMatte(matte: Mask8, fg: Rgba8, box?: Box): EncodedMatte {
  const { data: alpha, width, height } = matte;
  const foreground = fg.data;
  const n = width * height;
  if (alpha.length !== n || foreground.length !== n * 4 || fg.width !== width || fg.height !== height) throw new Error(`Expected a ${width}x${height} alpha and RGBA foreground but received ${alpha.length} and ${foreground.length} bytes`);
  // worst cases (alternating values); only the pages written are ever touched
  const runs = Buffer.allocUnsafe(3 * n + 16);
  const edges = Buffer.allocUnsafe(3 * n);
  let r = 0, e = 0;
  const put = (len: number, kind: number) => {
    let v = len * 4 + kind;
    while (v >= 0x80) { runs[r++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
    runs[r++] = v;
  };
  let i = 0;
  while (i < n) {
    const a = alpha[i]!;
    let j = i + 1;
    if (a === 0) { while (j < n && alpha[j] === 0) j++; put(j - i, ZERO); }
    else if (a === 255) { while (j < n && alpha[j] === 255) j++; put(j - i, OPAQUE); }
    else {
      while (j < n && alpha[j] !== 0 && alpha[j] !== 255) j++;
      put(j - i, EDGE);
      alpha.copy(runs, r, i, j);
      r += j - i;
      for (let k = i; k < j; k++) { edges[e++] = foreground[k * 4]!; edges[e++] = foreground[k * 4 + 1]!; edges[e++] = foreground[k * 4 + 2]!; }
    }
    i = j;
  }
  // right-sized copies so the worst-case scratch buffers can go
  return { width, height, box: box ?? matteBox(matte), runs: Buffer.from(runs.subarray(0, r)), edgeColours: Buffer.from(edges.subarray(0, e)) };
}

/** Bounding box of alpha > 8 (the whole frame when no pixel is over it). */
export function matteBox(matte: Mask8): Box {
  const { data: alpha, width, height } = matte;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    // per row only the first and the last pixel over the threshold matter
    const row = y * width, end = row + width;
    let j = row;
    while (j < end && alpha[j]! <= BOX_ALPHA) j++;
    if (j === end) continue;
    if (j - row < x0) x0 = j - row;
    let k = end - 1;
    while (alpha[k]! <= BOX_ALPHA) k--;
    if (k - row > x1) x1 = k - row;
    if (y < y0) y0 = y;
    y1 = y;
  }
  return x1 < 0 ? { x: 0, y: 0, width, height } : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Walks the tokens: kind, first pixel, length, offset of the literal bytes in `runs`. */
function walk(m: EncodedMatte, visit: (kind: number, p: number, len: number, lit: number) => boolean | void): void {
  const { runs } = m;
  let r = 0, p = 0;
  while (r < runs.length) {
    let v = 0, mul = 1, b: number;
    do { b = runs[r++]!; v += (b & 0x7f) * mul; mul *= 128; } while (b >= 0x80 && r < runs.length);
    const kind = v % 4, len = (v - kind) / 4;
    if (visit(kind, p, len, r) === false) return;
    if (kind === EDGE) r += len;
    p += len;
  }
}

/** Whether the tokens describe exactly width*height pixels and the edge colours match them. */
function wellFormed(m: EncodedMatte): boolean {
  const n = m.width * m.height;
  let p = 0, edges = 0, ok = true;
  walk(m, (kind, at, len, lit) => {
    if (len < 1 || kind > EDGE || at + len > n || (kind === EDGE && lit + len > m.runs.length)) return (ok = false);
    if (kind === EDGE) {
      for (let k = lit; k < lit + len; k++) { const a = m.runs[k]!; if (a === 0 || a === 255) return (ok = false); }
      edges += len;
    }
    p = at + len;
  });
  return ok && p === n && edges * 3 === m.edgeColours.length;
}

/** The full-frame alpha, width*height. */
export function decodeAlpha(m: EncodedMatte): Buffer {
  const out = Buffer.alloc(m.width * m.height);
  walk(m, (kind, p, len, lit) => {
    if (kind === OPAQUE) out.fill(255, p, p + len);
    else if (kind === EDGE) m.runs.copy(out, p, lit, lit + len);
  });
  return out;
}

/**
 * RGBA of `region` of the foreground: the source's colours with the matte as alpha, and the stored
 * decontaminated colours on edge pixels. Only the region is built.
 */
export function decodeForeground(m: EncodedMatte, source: Buffer, region: Box): Buffer {
  const { width: w } = m;
  const { x: bx, y: by, width: bw, height: bh } = region;
  if (source.length !== w * m.height * 4) throw new Error(`Expected ${w}x${m.height} RGBA source pixels but received ${source.length} bytes`);
  const out = Buffer.allocUnsafe(bw * bh * 4);
  const start = by * w + bx, end = (by + bh - 1) * w + bx + bw;
  let e = 0;
  walk(m, (kind, p, len, lit) => {
    const q = p + len;
    if (q > start && p < end) {
      const yFirst = Math.floor(Math.max(p, start) / w), yLast = Math.floor((Math.min(q, end) - 1) / w);
      for (let y = yFirst; y <= yLast; y++) {
        const s = Math.max(p, y * w + bx), t = Math.min(q, y * w + bx + bw);
        if (s >= t) continue;
        const d = ((y - by) * bw + (s - y * w - bx)) * 4;
        if (kind === EDGE) {
          for (let k = s, o = d, c = (e + s - p) * 3; k < t; k++, o += 4, c += 3) {
            out[o] = m.edgeColours[c]!; out[o + 1] = m.edgeColours[c + 1]!; out[o + 2] = m.edgeColours[c + 2]!;
            out[o + 3] = m.runs[lit + k - p]!;
          }
        } else {
          source.copy(out, d, s * 4, t * 4);
          const a = kind === OPAQUE ? 255 : 0;
          for (let o = d + 3, stop = d + (t - s) * 4; o < stop; o += 4) out[o] = a;
        }
      }
    }
    if (kind === EDGE) e += len;
    return q < end;
  });
  return out;
}

const MAGIC = 0x32534d52; // 'RSM2'
const HEADER = 48;

function serialise(m: EncodedMatte): Buffer {
  const head = Buffer.alloc(HEADER);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(m.width, 4); head.writeUInt32LE(m.height, 8);
  head.writeUInt32LE(m.box.x, 12); head.writeUInt32LE(m.box.y, 16); head.writeUInt32LE(m.box.width, 20); head.writeUInt32LE(m.box.height, 24);
  head.writeUInt32LE(m.runs.length, 28); head.writeUInt32LE(m.edgeColours.length, 32);
  head.writeUInt32LE(m.modelSize ?? 0, 36);
  const body = Buffer.concat([m.runs, m.edgeColours]);
  head.writeBigUInt64LE(checksum64(body), 40);
  return Buffer.concat([head, body]);
}

/** The entry in `buf`, or null when it is not a complete, intact entry for a width x height image. */
function parse(buf: Buffer, width: number, height: number): EncodedMatte | null {
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC) return null;
  if (buf.readUInt32LE(4) !== width || buf.readUInt32LE(8) !== height) return null;
  const box = { x: buf.readUInt32LE(12), y: buf.readUInt32LE(16), width: buf.readUInt32LE(20), height: buf.readUInt32LE(24) };
  if (box.width < 1 || box.height < 1 || box.x + box.width > width || box.y + box.height > height) return null;
  const runsLen = buf.readUInt32LE(28), edgeLen = buf.readUInt32LE(32);
  if (HEADER + runsLen + edgeLen !== buf.length) return null;
  const body = buf.subarray(HEADER);
  if (checksum64(body) !== buf.readBigUInt64LE(40)) return null;
  const side = buf.readUInt32LE(36);
  const m: EncodedMatte = { width, height, box, runs: body.subarray(0, runsLen), edgeColours: body.subarray(runsLen), ...(side ? { modelSize: side } : {}) };
  return wellFormed(m) ? m : null;
}

/** `now` (ms) stamps each entry's time of use, which eviction orders by; Date.now by default. */
export function createMaskCache(dir: string, maxBytes: number, now: () => number = Date.now): MaskCache {
  let ready: Promise<void> | null = null;
  let approxBytes = -1;
  let puts = 0;
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true }).then(() => undefined));
  const fileOf = (key: string) => path.join(dir, `${key}.matte`);

  async function evict(): Promise<void> {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.matte'));
    const entries = (await Promise.all(names.map(async (n) => {
      try { const s = await stat(path.join(dir, n)); return { n, size: s.size, t: s.mtimeMs }; } catch { return null; }
    }))).filter((e) => e !== null);
    let total = entries.reduce((s, e) => s + e.size, 0);
    entries.sort((a, b) => a.t - b.t);
    for (const e of entries) {
      if (total <= maxBytes) break;
      await unlink(path.join(dir, e.n)).catch(() => undefined);
      total -= e.size;
    }
    approxBytes = total;
  }

  return {
    key(pixels, width, height, salt) {
      return contentHash(pixels, `${salt}:${width}x${height}`);
    },
    async get(key, width, height) {
      if (maxBytes <= 0) return null;
      let buf: Buffer;
      try { buf = await readFile(fileOf(key)); } catch { return null; }
      // a damaged or truncated entry is a miss; the next put overwrites it
      const m = parse(buf, width, height);
      if (!m) return null;
      // recency for eviction; a failure here only makes the entry look older
      const at = new Date(now());
      await utimes(fileOf(key), at, at).catch(() => undefined);
      return m;
    },
    async put(key, m) {
      if (maxBytes <= 0) return;
      await ensureDir();
      const body = serialise(m);
      if (body.length > maxBytes) return;
      const tmp = path.join(dir, `.${key}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(tmp, body);
      const at = new Date(now());
      await utimes(tmp, at, at);
      await rename(tmp, fileOf(key));
      // other threads write here too and this tally only sees our writes: rescan now and then
      approxBytes = approxBytes < 0 ? -1 : approxBytes + body.length;
      if (approxBytes < 0 || approxBytes > maxBytes || ++puts % 16 === 0) await evict();
    },
  };
}
