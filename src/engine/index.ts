import { createCutout, DEFAULT_MODEL_SIZE, type Cutout } from './cutout/index.js';
import type { Segmenter } from './cutout/session.js';
import { initCodec } from './codec.js';
import { transform, type CutoutFn, type CutoutSetting, type PaintFn, type StageListener } from './pipeline.js';
import type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export type { EngineOptions, TransformRequest, TransformResult } from './types.js';
export type { PaintFn, StageListener } from './pipeline.js';

export interface Engine {
  transform(req: TransformRequest, signal?: AbortSignal, onStage?: StageListener): Promise<TransformResult>;
  close(): Promise<void>;
}

export interface EngineDeps {
  /** the segmentation session of a model side to use instead of this thread's own (the pool shares them) */
  segmenter?: (size: number) => Promise<Segmenter>;
  /** generative upstreams, for requests whose route names one (the worker builds it from src/providers) */
  paint?: PaintFn;
  /** `studio`: render with the studio when an upstream fails */
  fallback?: 'off' | 'studio';
}

/** Builds the studio engine once per thread; heavy state (model session, caches) lives inside. */
export function createEngine(opts: EngineOptions, deps: EngineDeps = {}): Engine {
  initCodec({ concurrency: opts.sharpConcurrency });
  // one cutout per quality setting: the free model's sides (one for plain backdrops, one for photos
  // of scenes), and the Pro model's (its own side, with a mirrored pass averaged in); a session is
  // loaded per side when first needed
  const services = new Map<string, Cutout>();
  const freeSize = opts.modelSize ?? DEFAULT_MODEL_SIZE;
  const settingFor = (req: TransformRequest): CutoutSetting => (req.tier === 'pro'
    ? { modelSize: opts.proModelSize ?? freeSize, mirrored: true }
    : { modelSize: freeSize, sceneModelSize: opts.sceneModelSize ?? freeSize, mirrored: false });
  const serviceFor = ({ modelSize, sceneModelSize, mirrored }: CutoutSetting) => {
    const key = `${modelSize}/${sceneModelSize ?? modelSize}:${mirrored}`;
    let s = services.get(key);
    if (!s) {
      s = createCutout({ cacheDir: opts.cacheDir, maskCacheBytes: opts.maskCacheBytes, modelCacheDir: opts.modelCacheDir, modelSize, sceneModelSize, mirrored, modelPath: opts.modelPath, segmenter: deps.segmenter });
      services.set(key, s);
    }
    return s;
  };
  const cutoutFor = (setting: CutoutSetting): CutoutFn => {
    const service = serviceFor(setting);
    return (image, o) => service.cutout(image, o);
  };
  let closing: Promise<void> | undefined;
  return {
    transform: (req, signal, onStage) => {
      const setting = settingFor(req);
      return transform(req, { opts, cutout: cutoutFor(setting), cutoutSetting: setting, paint: deps.paint, fallback: deps.fallback }, signal, onStage);
    },
    close: () => (closing ??= Promise.all([...services.values()].map((s) => s.close())).then(() => undefined)),
  };
}
