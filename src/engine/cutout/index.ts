import { availableParallelism } from 'node:os';
import { loadSegmenter, type Segmenter } from '../onnx.js';
import { resizeRaw, type RawImage } from '../sharp.js';
import { createMaskCache } from './cache.js';
import { matteFromModel } from './matte.js';

/**
 * Product cutout: IS-Net (medium) fused with a classical matte from the modelled studio backdrop,
 * refined at full resolution, with decontaminated edge colours and an on-disk matte cache.
 *
 * Steps: hash -> cache lookup -> (model at size x size, backdrop fit, fusion) -> upsample ->
 * guided filter + colour alpha on the edge band -> decontamination -> cache store.
 */
export interface CutoutResult {
  /** single-channel alpha, width*height, the source's size */
  alpha: Buffer;
  /** RGBA foreground, decontaminated edge colours, alpha = matte */
  foreground: RawImage;
  cached: boolean;
  /** ms per step */
  timings: Record<string, number>;
}

export interface CutoutOptions {
  /** where mattes are cached (the engine passes <dataDir>/cache/masks) */
  cacheDir: string;
  /** size bound of the cache; 0 disables it */
  maskCacheBytes: number;
  /** model input side (multiple of 64, 256..1024). Default 768: see README "Cutout model" */
  modelSize?: number;
  /** onnxruntime intra-op threads. Default: all cores */
  threads?: number;
  /** a segmenter to use instead of this process's own session (e.g. one shared across threads) */
  segmenter?: () => Promise<Segmenter>;
}

export interface Cutout {
  cutout(image: RawImage, o?: { hasAlpha?: boolean; signal?: AbortSignal }): Promise<CutoutResult>;
  close(): Promise<void>;
}

/** Bump when the algorithm changes so cached mattes from an older version are not reused. */
const ALGO_VERSION = 'cutout-2';
export const DEFAULT_MODEL_SIZE = 768;

let lastLoadMs: number | null = null;
/** ms the model took to load in this process, or null if it has not been loaded. */
export function modelLoadMs(): number | null {
  return lastLoadMs;
}

export function createCutout(opts: CutoutOptions): Cutout {
  const size = opts.modelSize ?? DEFAULT_MODEL_SIZE;
  const threads = opts.threads ?? Math.max(1, availableParallelism());
  const cache = createMaskCache(opts.cacheDir, opts.maskCacheBytes);
  let seg: Promise<Segmenter> | null = null;
  const segmenter = () => {
    seg ??= (opts.segmenter ? opts.segmenter() : loadSegmenter({ size, threads })).then((s) => { lastLoadMs ??= s.loadMs; return s; });
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
        return { alpha, foreground: rgba, cached: false, timings };
      }

      const key = cache.key(rgba.data, w, h, `${ALGO_VERSION}:${size}`);
      lap('hash');
      const hit = await cache.get(key, w, h);
      if (hit) {
        const fg = Buffer.from(rgba.data);
        const px = new Uint32Array(fg.buffer, fg.byteOffset, w * h); // RGBA as one little-endian word
        const ec = hit.edgeColours;
        const al = hit.alpha;
        let e = 0;
        for (let i = 0; i < w * h; i++) {
          const a = al[i]!;
          if (a === 255) px[i] = px[i]! | 0xff000000;
          else if (a === 0) px[i] = px[i]! & 0x00ffffff;
          else if (e + 3 <= ec.length) { px[i] = (ec[e]! | (ec[e + 1]! << 8) | (ec[e + 2]! << 16) | (a << 24)) >>> 0; e += 3; }
          else px[i] = ((px[i]! & 0x00ffffff) | (a << 24)) >>> 0;
        }
        lap('cache');
        return { alpha: hit.alpha, foreground: { data: fg, width: w, height: h, channels: 4 }, cached: true, timings };
      }
      lap('cache');

      const s = await segmenter();
      lap('load');
      const small = await resizeRaw(rgba, s.size, s.size);
      lap('resize');
      const model = await s.run(small.data);
      lap('model');
      // everything from the model's output to the final alpha and foreground lives in matte.ts
      const { alpha, foreground } = matteFromModel({ image: rgba, small, model, lap });

      let edges = 0;
      for (let i = 0; i < w * h; i++) if (alpha[i]! > 0 && alpha[i]! < 255) edges++;
      const edgeColours = Buffer.alloc(edges * 3);
      for (let i = 0, e = 0; i < w * h; i++) {
        const a = alpha[i]!;
        if (a > 0 && a < 255) { edgeColours[e++] = foreground.data[i * 4]!; edgeColours[e++] = foreground.data[i * 4 + 1]!; edgeColours[e++] = foreground.data[i * 4 + 2]!; }
      }
      await cache.put(key, { width: w, height: h, alpha, edgeColours });
      lap('store');
      return { alpha, foreground, cached: false, timings };
    },
    async close() {
      // sessions are per process and shared by every cutout in it; they live as long as the process
      seg = null;
    },
  };
}

/** An alpha channel is meaningful when a real part of the image is transparent and a real part opaque. */
function meaningfulAlpha(img: RawImage): boolean {
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

function ensureRgba(img: RawImage): RawImage {
  if (img.channels === 4) return img;
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
