import { cutoutImage } from './cutout/index.js';
import { initSharp } from './sharp.js';
import { transform, type CutoutFn } from './transform.js';
import type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export interface Engine {
  transform(req: TransformRequest, signal?: AbortSignal): Promise<TransformResult>;
  close(): Promise<void>;
}

/** Builds the studio engine once per thread; heavy state (model session, caches) lives inside. */
export function createEngine(opts: EngineOptions): Engine {
  initSharp({ concurrency: opts.sharpConcurrency });
  const cutout: CutoutFn = async (image) => cutoutImage(image);
  return {
    transform: (req, signal) => transform(req, { opts, cutout }, signal),
    close: async () => {},
  };
}
