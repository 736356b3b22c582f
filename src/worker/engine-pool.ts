import os from 'node:os';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { DEFAULT_MODEL_SIZE } from '../engine/cutout/index.js';
import type { EngineOptions, TransformRequest, TransformResult } from '../engine/index.js';
import { loadSegmenter, type Segmenter } from '../engine/onnx.js';
import { PermanentTaskError } from '../errors.js';
import type { ThreadResult, ThreadTask } from './engine-thread.js';
import { openSegmenterPort } from './shared-segmenter.js';

export interface EnginePool {
  transform(request: TransformRequest, signal?: AbortSignal): Promise<TransformResult>;
  /** tasks waiting for a thread */
  queueSize(): number;
  close(): Promise<void>;
}

/**
 * The engine in a worker-thread pool, so the HTTP event loop never waits on pixels, with one
 * segmentation session shared by all threads (see shared-segmenter.ts).
 * From the TypeScript sources (tests, `tsx`) the thread loads its module through tsx, resolved
 * from this package so it works from any working directory.
 */
export function createEnginePool(options: EngineOptions, threads: number, logger?: Logger): EnginePool {
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Piscina<ThreadTask, ThreadResult>({
    filename: new URL(`./engine-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: 60_000,
    execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
  });
  // A thread that cannot start (or dies) must fail its task, not the process.
  pool.on('error', (err: unknown) => logger?.error({ err }, 'engine thread failed'));
  let session: Promise<Segmenter> | null = null;
  const segmenter = () => {
    session ??= loadSegmenter({ size: DEFAULT_MODEL_SIZE, threads: Math.max(1, os.availableParallelism()) });
    session.catch(() => (session = null));
    return session;
  };
  let closed: Promise<void> | null = null;
  return {
    async transform(request, signal) {
      const { port, release } = openSegmenterPort(segmenter);
      let out: ThreadResult;
      try {
        out = await pool.run({ options, request, segmenterPort: port }, { signal, transferList: [port] });
      } finally {
        release();
      }
      if (!out.ok) {
        // Name the reference that failed the way the contract does: `input_urls[1]: ...`.
        const i = out.source === undefined ? -1 : request.sources.indexOf(out.source);
        const message = i >= 0 ? `input_urls[${i}]: ${out.message}` : out.message;
        throw out.permanent ? new PermanentTaskError(message) : new Error(message);
      }
      return out.result;
    },
    queueSize: () => pool.queueSize,
    close() {
      closed ??= pool.destroy().then(async () => {
        if (session) await (await session.catch(() => null))?.close();
      });
      return closed;
    },
  };
}
