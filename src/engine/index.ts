import { createCutout } from './cutout/index.js';
import type { Segmenter } from './cutout/session.js';
import { initCodec } from './codec.js';
import { transform, type StageListener } from './pipeline.js';
import type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export type { EngineOptions, TransformRequest, TransformResult } from './types.js';
export type { StageListener } from './pipeline.js';

export interface Engine {
  transform(req: TransformRequest, signal?: AbortSignal, onStage?: StageListener): Promise<TransformResult>;
  close(): Promise<void>;
}

export interface EngineDeps {
  /** the segmentation session to use instead of this thread's own (the pool shares one) */
  segmenter?: () => Promise<Segmenter>;
}

/** Builds the studio engine once per thread; heavy state (model session, caches) lives inside. */
export function createEngine(opts: EngineOptions, deps: EngineDeps = {}): Engine {
  initCodec({ concurrency: opts.sharpConcurrency });
  const service = createCutout({ cacheDir: opts.cacheDir, maskCacheBytes: opts.maskCacheBytes, modelCacheDir: opts.modelCacheDir, modelSize: opts.modelSize, modelPath: opts.modelPath, segmenter: deps.segmenter });
  const cutout = (image: Parameters<typeof service.cutout>[0], o: { hasAlpha?: boolean }) => service.cutout(image, o);
  let closing: Promise<void> | undefined;
  return {
    transform: (req, signal, onStage) => transform(req, { opts, cutout }, signal, onStage),
    close: () => (closing ??= service.close()),
  };
}
