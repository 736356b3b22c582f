import path from 'node:path';
import * as cutoutModule from './cutout/index.js';
import { initSharp, type RawImage } from './sharp.js';
import { transform, type CutoutFn, type CutoutOutput } from './transform.js';
import type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export type { EngineOptions, TransformRequest, TransformResult } from './types.js';

export interface Engine {
  transform(req: TransformRequest, signal?: AbortSignal): Promise<TransformResult>;
  close(): Promise<void>;
}

interface CutoutService {
  cutout(image: RawImage, opts: { hasAlpha?: boolean }): Promise<CutoutOutput>;
  close(): Promise<void> | void;
}
type CreateCutout = (opts: { cacheDir: string; maskCacheBytes: number }) => CutoutService;

/**
 * The cutout service: the segmentation cutout with its mask cache (one per engine) when the cutout
 * module provides `createCutout`, else its plain-background matte.
 */
function buildCutout(opts: EngineOptions): { cutout: CutoutFn; close: () => Promise<void> } {
  const create = (cutoutModule as Record<string, unknown>).createCutout as CreateCutout | undefined;
  if (typeof create === 'function') {
    const service = create({ cacheDir: path.join(opts.cacheDir), maskCacheBytes: opts.maskCacheBytes });
    return { cutout: (image, o) => service.cutout(image, o), close: async () => { await service.close(); } };
  }
  const interim = (cutoutModule as Record<string, unknown>).cutoutImage as ((image: RawImage) => Promise<CutoutOutput>) | undefined;
  if (typeof interim !== 'function') throw new Error('Expected createCutout or cutoutImage from engine/cutout but received neither');
  return { cutout: (image) => interim(image), close: async () => {} };
}

/** Builds the studio engine once per thread; heavy state (model session, caches) lives inside. */
export function createEngine(opts: EngineOptions): Engine {
  initSharp({ concurrency: opts.sharpConcurrency });
  const { cutout, close } = buildCutout(opts);
  let closing: Promise<void> | undefined;
  return {
    transform: (req, signal) => transform(req, { opts, cutout }, signal),
    close: () => (closing ??= close()),
  };
}
