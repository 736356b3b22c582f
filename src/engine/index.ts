import { initSharp } from './sharp.js';
import { transform } from './transform.js';
import type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export interface Engine {
  transform(req: TransformRequest, signal?: AbortSignal): Promise<TransformResult>;
  close(): Promise<void>;
}

/** Builds the studio engine once per thread; heavy state (model session, caches) lives inside. */
export function createEngine(opts: EngineOptions): Engine {
  initSharp({ concurrency: opts.sharpConcurrency });
  return {
    transform: (req) => transform(req, opts),
    close: async () => {},
  };
}
