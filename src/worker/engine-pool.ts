import { Piscina } from 'piscina';
import { PermanentTaskError } from '../errors.js';
import type { EngineOptions, TransformRequest, TransformResult } from '../engine/index.js';
import type { ThreadResult, ThreadTask } from './engine-thread.js';

export interface EnginePool {
  transform(request: TransformRequest, signal?: AbortSignal): Promise<TransformResult>;
  /** tasks waiting for a thread */
  queueSize(): number;
  close(): Promise<void>;
}

/**
 * The engine in a worker-thread pool, so the HTTP event loop never waits on pixels.
 * From the TypeScript sources (tests, `tsx`) the thread loads its module through tsx.
 */
export function createEnginePool(options: EngineOptions, threads: number): EnginePool {
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Piscina<ThreadTask, ThreadResult>({
    filename: new URL(`./engine-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: 60_000,
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  });
  let closed: Promise<void> | null = null;
  return {
    async transform(request, signal) {
      const out = await pool.run({ options, request }, { signal });
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
      closed ??= pool.destroy();
      return closed;
    },
  };
}
