import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Box } from '../raster/types.js';
import { loadSegmenter, type Segmenter } from './session.js';
import { opaqueResizer } from '../codec.js';
import { mask8, rgba8, type Raster8, type Rgba8 } from '../raster/types.js';
import { fitBackground, type BackgroundModel } from './background.js';
import { createMaskCache, decodeAlpha, decodeForeground, encodeMatte, matteBox, type EncodedMatte } from './cache.js';
import { backdropOf, matteFromModel, warmUpMatte, type GuardReport } from './matte.js';

export { guardShares, type GuardReport } from './matte.js';

/**
 * Product cutout: IS-Net (medium) fused with a classical matte from the modelled studio backdrop,
 * refined at full resolution, with decontaminated edge colours and an on-disk matte cache.
 *
 * Steps: hash -> cache lookup -> (model at size x size, backdrop fit, fusion) -> upsample ->
 * guided filter + colour alpha on the edge band -> decontamination -> cache store.
 */
export interface CutoutResult {
  /** single-channel alpha, width*height, the source's size. Read-only; on a cache hit it is decoded on first read */
  readonly alpha: Buffer;
  /**
   * RGBA foreground of the whole frame, decontaminated edge colours, alpha = matte. On a cache hit it
   * is built on first read (the source's size times 4 bytes): use crop() for just the product.
   */
  readonly foreground: Raster8;
  /** bounding box of alpha > 8 in source pixels: what the product visibly covers (the whole frame when nothing is) */
  readonly box: Box;
  /** a new RGBA buffer with the foreground inside `region` (default: box), built without the whole frame */
  crop(region?: Box): Raster8;
  cached: boolean;
  /**
   * The side the model ran at for this matte (the plain-backdrop side, or the scene side when the
   * photo's border is not a plain backdrop); null for a source's own alpha and for cache entries
   * written before the side was recorded.
   */
  modelSize: number | null;
  /**
   * What the model was confident about and what the matte changed of it (see matte.ts GuardReport): the
   * first thing to look at when a matte goes wrong. Null on a cache hit and for a source's own alpha.
   */
  guard: GuardReport | null;
  /** ms per step */
  timings: Record<string, number>;
}

export interface CutoutOptions {
  /** where mattes are cached (the engine passes <dataDir>/cache/masks) */
  cacheDir: string;
  /** size bound of the cache; 0 disables it */
  maskCacheBytes: number;
  /** model input side (multiple of 64, 256..1024). Default 768 (the Pro model runs 1024): see README "Cutout model" */
  modelSize?: number;
  /**
   * The side for a photo whose border is not a plain backdrop (a room, a street, foliage: see
   * background.ts `plain`). Thin parts over a busy scene need the model's native 1024, where a plain
   * backdrop gives the matte steps their own evidence at 768. Default: modelSize (one side for all).
   */
  sceneModelSize?: number;
  /**
   * Also run the model on the mirrored image and average the two answers (twice the model time; the
   * Pro model's quality setting): fewer one-sided misses on thin parts.
   */
  mirrored?: boolean;
  /** onnxruntime intra-op threads. Default: all cores */
  threads?: number;
  /** where the optimised model is kept between processes (see session.ts); without it the model is prepared in memory */
  modelCacheDir?: string;
  /** a segmentation model file to load instead of the shipped IS-Net weights (see session.ts) */
  modelPath?: string;
  /** a segmenter for a model side, instead of this process's own sessions (e.g. one shared across threads) */
  segmenter?: (size: number) => Promise<Segmenter>;
}

export interface CutoutCallOptions {
  /** the file declared an alpha channel: a meaningful one is used as the matte */
  hasAlpha?: boolean;
  signal?: AbortSignal;
  /**
   * The caller no longer needs the image's pixels: on a miss its buffer may become the foreground
   * (overwritten), which saves a copy of the frame (about 150 ms of fresh memory at 12 MP here).
   */
  consume?: boolean;
}

export interface Cutout {
  cutout(image: Raster8, o?: CutoutCallOptions): Promise<CutoutResult>;
  /** resolves when the cache entries of earlier cutouts are written (they are written after returning) */
  idle(): Promise<void>;
  /** waits for idle() */
  close(): Promise<void>;
}

/** Bump when the algorithm changes so cached mattes from an older version are not reused. */
const ALGO_VERSION = 'cutout-8';
export const DEFAULT_MODEL_SIZE = 768;
/** the free model's side for photos of scenes (RESHOOT_SCENE_MODEL_SIZE): the model's native side */
export const DEFAULT_SCENE_MODEL_SIZE = 1024;

let lastLoadMs: number | null = null;
/** ms the model took to load in this process, or null if it has not been loaded. */
export function modelLoadMs(): number | null {
  return lastLoadMs;
}

export function createCutout(opts: CutoutOptions): Cutout {
  const size = opts.modelSize ?? DEFAULT_MODEL_SIZE;
  const sceneSize = opts.sceneModelSize ?? size;
  // another model's mattes are other mattes (the shipped weights keep the keys they always had); the
  // side a photo gets follows from its pixels, so the pair of sides names the setting
  const salt = `${ALGO_VERSION}:${size}${sceneSize !== size ? `/${sceneSize}` : ''}${opts.mirrored ? ':mirrored' : ''}${opts.modelPath ? `:${path.resolve(opts.modelPath)}` : ''}`;
  const threads = opts.threads ?? Math.max(1, availableParallelism());
  const cache = createMaskCache(opts.cacheDir, opts.maskCacheBytes);
  // entries still being encoded and written; a lookup of the same pixels meanwhile is served from here
  const storing = new Map<string, Promise<EncodedMatte>>();
  const idle = async () => { await Promise.allSettled([...storing.values()]); };
  const sessions = new Map<number, Promise<Segmenter>>();
  const segmenter = (side: number) => {
    let seg = sessions.get(side);
    if (!seg) {
      // the matte steps are compiled on a synthetic image while loading (reported with the load time)
      seg = (opts.segmenter ? opts.segmenter(side) : loadSegmenter({ size: side, threads, cacheDir: opts.modelCacheDir, modelPath: opts.modelPath })).then((s) => { lastLoadMs ??= s.loadMs + warmUpMatte(); return s; });
      sessions.set(side, seg);
    }
    return seg;
  };

  return {
    async cutout(image, o = {}) {
      const timings: Record<string, number> = {};
      let t = performance.now();
      const lap = (name: string) => { const now = performance.now(); timings[name] = round1(now - t); t = now; o.signal?.throwIfAborted(); };
      const rgba = ensureRgba(image);
      const { width: w, height: h } = rgba;
      o.signal?.throwIfAborted();

      if (o.hasAlpha && meaningfulAlpha(rgba)) {
        const alpha = Buffer.alloc(w * h);
        for (let i = 0; i < w * h; i++) alpha[i] = rgba.data[i * 4 + 3]!;
        lap('alpha');
        return fromPlanes(alpha, rgba, timings, null, null);
      }

      const key = cache.key(rgba.data, w, h, salt);
      lap('hash');
      const pending = storing.get(key);
      const hit = pending ? await pending.catch(() => null) : await cache.get(key, w, h);
      lap('cache');
      if (hit) return fromMatte(hit, rgba, timings);

      const { small, bg } = await modelInput(rgba, size, sceneSize);
      const side = small.width;
      lap('resize');
      const s = await segmenter(side);
      lap('load');
      const running = opts.mirrored ? runMirrored(s, small) : s.run(small.data);
      // a failed run is thrown by the await below, not reported as unhandled while the backdrop is fitted
      running.catch(() => undefined);
      // what the matte steps need of the backdrop does not need the model: it is computed while the
      // model runs (once the run has been handed to its threads, a turn of the event loop later)
      await new Promise<void>((resolve) => setImmediate(resolve));
      const backdrop = backdropOf(small, bg);
      const model = await running;
      lap('model');
      // everything from the model's output to the final alpha and foreground lives in matte.ts
      // a converted copy is ours to overwrite anyway
      const { alpha, foreground, guard } = matteFromModel({ image: rgba, small, model, lap, backdrop, inPlace: o.consume === true || rgba !== image });
      // the entry is encoded and written after this returns: the caller needs none of it, and a
      // failed write only costs a later miss
      const res = fromPlanes(alpha, foreground, timings, guard, s.size);
      const job = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        // the box is found once, for whichever asks first: the caller's crop or this entry
        const m = { ...encodeMatte(mask8(alpha, w, h), rgba8(foreground.data, w, h), res.box), modelSize: s.size };
        await cache.put(key, m);
        return m;
      });
      storing.set(key, job);
      const done = () => { if (storing.get(key) === job) storing.delete(key); };
      job.then(done, done);
      return res;
    },
    idle,
    async close() {
      await idle();
      // sessions are per process and shared by every cutout in it; they live as long as the process
      sessions.clear();
    },
  };
}

/**
 * The model's input: the frame at the plain-backdrop side with its border's backdrop fitted, unless that
 * border is a scene (background.ts `plain`): then at the scene side, sampled from the same copy.
 */
async function modelInput(rgba: Rgba8, size: number, sceneSize: number): Promise<{ small: Rgba8; bg?: BackgroundModel }> {
  const sample = opaqueResizer(rgba);
  const small = await sample(size, size);
  const bg = fitBackground(small);
  if (sceneSize === size || bg.plain) return { small, bg };
  return { small: await sample(sceneSize, sceneSize) };
}

/** The model's answer averaged with its answer on the mirrored image (mirrored back). */
async function runMirrored(s: Segmenter, small: Raster8): Promise<Float32Array> {
  const S = s.size;
  const flipped = Buffer.allocUnsafe(small.data.length);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) small.data.copy(flipped, (y * S + (S - 1 - x)) * 4, (y * S + x) * 4, (y * S + x) * 4 + 4);
  }
  const p = await s.run(small.data);
  const q = await s.run(flipped);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) p[y * S + x] = (p[y * S + x]! + q[y * S + (S - 1 - x)]!) / 2;
  }
  return p;
}

/** A result whose planes exist already (computed now, or the source's own alpha); the box is found on first read. */
function fromPlanes(alpha: Buffer, foreground: Raster8, timings: Record<string, number>, guard: GuardReport | null, modelSize: number | null): CutoutResult {
  let box: Box | null = null;
  const res: CutoutResult = {
    alpha, foreground, cached: false, modelSize, guard, timings,
    get box() { return (box ??= matteBox(mask8(alpha, foreground.width, foreground.height))); },
    crop(region = res.box) {
      const { width: w, height: h } = foreground;
      checkRegion(region, w, h);
      const out = Buffer.allocUnsafe(region.width * region.height * 4);
      for (let y = 0; y < region.height; y++) {
        const s = ((region.y + y) * w + region.x) * 4;
        foreground.data.copy(out, y * region.width * 4, s, s + region.width * 4);
      }
      return { data: out, width: region.width, height: region.height, channels: 4 };
    },
  };
  return res;
}

/**
 * A result from a cache entry: nothing full-size is built until it is read, so a hit costs the hash
 * and a small file read, and the engine's crop of the product costs only the product's area.
 */
function fromMatte(m: EncodedMatte, source: Raster8, timings: Record<string, number>): CutoutResult {
  const { width: w, height: h } = m;
  let alpha: Buffer | null = null;
  let fg: Raster8 | null = null;
  return {
    get alpha() { return (alpha ??= decodeAlpha(m)); },
    get foreground() { return (fg ??= { data: decodeForeground(m, source.data, { x: 0, y: 0, width: w, height: h }), width: w, height: h, channels: 4 }); },
    box: m.box,
    cached: true,
    modelSize: m.modelSize ?? null,
    guard: null,
    timings,
    crop(region = m.box) {
      checkRegion(region, w, h);
      return { data: decodeForeground(m, source.data, region), width: region.width, height: region.height, channels: 4 };
    },
  };
}

function checkRegion(r: Box, w: number, h: number): void {
  const ok = [r.x, r.y, r.width, r.height].every(Number.isInteger) && r.x >= 0 && r.y >= 0 && r.width > 0 && r.height > 0 && r.x + r.width <= w && r.y + r.height <= h;
  if (!ok) throw new Error(`Expected a crop region inside the ${w}x${h} frame but received ${JSON.stringify(r)}`);
}

/** An alpha channel is meaningful when a real part of the image is transparent and a real part opaque. */
function meaningfulAlpha(img: Raster8): boolean {
  const n = img.width * img.height;
  let clear = 0, solid = 0;
  const step = Math.max(1, Math.floor(n / 200_000));
  for (let i = 0; i < n; i += step) {
    const a = img.data[i * 4 + 3]!;
    if (a < 250) clear++;
    if (a > 5) solid++;
  }
  const m = Math.ceil(n / step);
  return clear > m * 0.005 && solid > m * 0.005;
}

function ensureRgba(img: Raster8): Rgba8 {
  if (img.channels === 4) return img as Rgba8;
  const n = img.width * img.height;
  const out = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    const c = img.channels;
    const g = img.data[i * c]!;
    out[i * 4] = g;
    out[i * 4 + 1] = c >= 3 ? img.data[i * c + 1]! : g;
    out[i * 4 + 2] = c >= 3 ? img.data[i * c + 2]! : g;
    out[i * 4 + 3] = c === 2 ? img.data[i * 2 + 1]! : 255;
  }
  return { data: out, width: img.width, height: img.height, channels: 4 };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
