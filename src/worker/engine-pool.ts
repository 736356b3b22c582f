import os from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import type { EngineOptions, StageListener, TransformRequest, TransformResult } from '../engine/index.js';
import { PermanentTaskError } from '../errors.js';
import type { UpstreamSettings } from '../providers/index.js';
import type { LayoutAnswer, ThreadEvent, ThreadResult, ThreadTask, UpstreamWake } from './engine-thread.js';

/** What a render tells its caller while it runs. */
export interface RenderListeners {
  /** each stage's name as it starts */
  stage?: StageListener;
  /** a generative upstream created its task (not for OpenAI-compatible edits, which answer at once) */
  upstream?: (created: { engine: string; taskId: string }) => void;
  /** stores the layout and answers a link the upstream can fetch (hiapi, when reshoot is reachable); without it a data: URI */
  layoutUrl?: (png: Buffer) => Promise<string>;
  /**
   * hiapi: ask for the upstream's final callback at `url`; `subscribe` is handed the render's way to
   * wake its poller (call it when the callback comes) and answers how to stop
   */
  upstreamCallback?: { url: string; subscribe: (wake: () => void) => () => void };
}

export interface EnginePool {
  /** renders in a pool thread, telling `on` what happens as it happens */
  transform(request: TransformRequest, signal?: AbortSignal, on?: RenderListeners): Promise<TransformResult>;
  close(): Promise<void>;
}

/**
 * The engine in a worker-thread pool, so the HTTP event loop never waits on pixels, with one
 * segmentation session shared by all threads (see shared-segmenter.ts).
 * From the TypeScript sources (tests, `tsx`) the thread loads its module through tsx, resolved
 * from this package so it works from any working directory.
 */
export function createEnginePool(options: EngineOptions, threads: number, logger?: Logger, upstreams?: UpstreamSettings): EnginePool {
  const fromSource = import.meta.url.endsWith('.ts');
  const execArgv = fromSource ? ['--import', import.meta.resolve('tsx')] : [];
  const pool = new Piscina<ThreadTask, ThreadResult>({
    filename: new URL(`./engine-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: 60_000,
    execArgv,
  });
  // A thread that cannot start (or dies) must fail its task, not the process.
  pool.on('error', (err: unknown) => logger?.error({ err }, 'engine thread failed'));
  const model = new Piscina<MessagePort, void>({
    filename: new URL(`./model-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Infinity,
    // The thread answers its ports between tasks, so it must not sleep in Atomics.wait when idle.
    atomics: 'disabled',
    execArgv,
    workerData: { threads: Math.max(1, os.availableParallelism()), cacheDir: options.modelCacheDir, modelPath: options.modelPath },
  });
  model.on('error', (err: unknown) => logger?.error({ err }, 'model thread failed'));
  let closed: Promise<void> | null = null;
  return {
    async transform(request, signal, on) {
      const { port1, port2 } = new MessageChannel();
      await model.run(port1, { transferList: [port1] });
      const events = on?.stage || on?.upstream || on?.layoutUrl || on?.upstreamCallback ? new MessageChannel() : null;
      const answer = (a: LayoutAnswer['layoutAnswer']) => {
        // the port is closed once the task is over: nobody is waiting any more
        try { events?.port1.postMessage({ layoutAnswer: a } satisfies LayoutAnswer); } catch { /* closed */ }
      };
      events?.port1.on('message', (e: ThreadEvent) => {
        if ('stage' in e) on?.stage?.(e.stage);
        else if ('upstream' in e) on?.upstream?.(e.upstream);
        else if (on?.layoutUrl) {
          const { id, png } = e.layout;
          on.layoutUrl(Buffer.from(png.buffer, png.byteOffset, png.byteLength)).then(
            (url) => answer({ id, url }),
            (err: unknown) => answer({ id, error: err instanceof Error ? err.message : String(err) }),
          );
        } else answer({ id: e.layout.id, error: 'no layout links on this worker' });
      });
      const unsubscribe = events && on?.upstreamCallback
        ? on.upstreamCallback.subscribe(() => {
            try { events.port1.postMessage({ upstreamWake: true } satisfies UpstreamWake); } catch { /* closed */ }
          })
        : undefined;
      // The engine thread closes its ends when the task is over, which ends the model thread's side too.
      const out = await pool
        .run(
          {
            options, request, segmenterPort: port2, ...(events ? { eventPort: events.port2 } : {}), ...(upstreams ? { upstreams } : {}),
            ...(on?.layoutUrl ? { linkLayouts: true } : {}),
            ...(on?.upstreamCallback ? { upstreamCallbackUrl: on.upstreamCallback.url } : {}),
          },
          { signal, transferList: events ? [port2, events.port2] : [port2] },
        )
        .finally(() => {
          unsubscribe?.();
          events?.port1.close();
        });
      if (!out.ok) {
        // Name the reference that failed the way the contract does: `input_urls[1]: ...`.
        const i = out.source === undefined ? -1 : request.sources.indexOf(out.source);
        const message = i >= 0 ? `input_urls[${i}]: ${out.message}` : out.message;
        throw out.permanent ? new PermanentTaskError(message, out.code) : new Error(message);
      }
      return out.result;
    },
    close() {
      closed ??= pool.destroy().then(() => model.destroy());
      return closed;
    },
  };
}
