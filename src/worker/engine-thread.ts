import type { MessagePort } from 'node:worker_threads';
import { createEngine, type Engine, type EngineOptions, type TransformRequest, type TransformResult } from '../engine/index.js';
import { ImageDecodeError } from '../engine/codec.js';
import type { Segmenter } from '../engine/cutout/session.js';
import type { TaskErrorCode } from '../errors.js';
import { WAKE } from '../providers/hiapi/index.js';
import { paintWith, type UpstreamSettings } from '../providers/index.js';
import { createSegmenterProxy } from './shared-segmenter.js';

/**
 * Runs inside a piscina worker thread: one engine per thread, built on first use and kept (caches
 * live for the thread's life). Model runs go to the pool's shared session through the task's port.
 * Errors cross the thread boundary as plain data.
 */
let engine: Engine | null = null;
let builtWith = '';
let port: MessagePort | null = null;
/** the running task's event port (a thread runs one task at a time, as with `port`) */
let events: MessagePort | null = null;
/** the running task's upstream gets its layout as a link the worker's main thread makes (ThreadTask.linkLayouts) */
let linkLayouts = false;
/** the running task's hiapi callback URL (ThreadTask.upstreamCallbackUrl) */
let callbackUrl: string | undefined;
/** the running task's wakes: the main thread heard the upstream's callback (UpstreamWake) */
let wakes: EventTarget | null = null;
/** layout links asked of the main thread and not answered yet, by ask id */
const asks = new Map<number, { resolve: (url: string) => void; reject: (err: Error) => void }>();
let lastAsk = 0;

/** What the thread posts on a task's event port while the task runs. */
export type ThreadEvent =
  | { stage: string }
  /** a generative upstream created its task: the worker stores it before the paint is over */
  | { upstream: { engine: string; taskId: string } }
  /** the upstream takes the layout as a URL: the main thread stores it and answers with a LayoutAnswer */
  | { layout: { id: number; png: Uint8Array } };

/** The main thread's answer to a `layout` event, on the same port: the link, or why there is none. */
export interface LayoutAnswer {
  layoutAnswer: { id: number; url?: string; error?: string };
}

/** The main thread heard the upstream's callback for the running task: the poller asks the upstream now. */
export interface UpstreamWake {
  upstreamWake: true;
}

/** Asks the worker's main thread (which has the blob store and the URL signer) for a link to the layout. */
function askLayoutUrl(png: Buffer): Promise<string> {
  const to = events;
  if (!to) return Promise.reject(new Error('the layout link was asked for outside a task'));
  const id = ++lastAsk;
  return new Promise<string>((resolve, reject) => {
    asks.set(id, { resolve, reject });
    to.postMessage({ layout: { id, png } } satisfies ThreadEvent);
  });
}

function onAnswer(m: unknown): void {
  if (typeof m !== 'object' || m === null) return;
  if ('upstreamWake' in m) {
    wakes?.dispatchEvent(new Event(WAKE));
    return;
  }
  if (!('layoutAnswer' in m)) return;
  const { id, url, error } = (m as LayoutAnswer).layoutAnswer;
  const ask = asks.get(id);
  if (!ask) return;
  asks.delete(id);
  if (url) ask.resolve(url);
  else ask.reject(new Error(`the layout could not be linked for the upstream: ${error ?? 'no answer'}`));
}

export interface ThreadTask {
  options: EngineOptions;
  request: TransformRequest;
  /** the shared segmentation session, for this task */
  segmenterPort: MessagePort;
  /** where each render stage's start and each upstream task's creation are posted (ThreadEvent), when the caller listens */
  eventPort?: MessagePort;
  /** the generative upstreams (plain data), for requests whose route names one */
  upstreams?: UpstreamSettings;
  /** hand hiapi the layout as a link (asked of the main thread on `eventPort`) instead of a data: URI */
  linkLayouts?: boolean;
  /** ask hiapi for its final callback at this URL; the main thread posts an UpstreamWake on `eventPort` when it comes */
  upstreamCallbackUrl?: string;
}

export type ThreadResult =
  | { ok: true; result: TransformResult }
  | { ok: false; permanent: boolean; message: string; source?: string; code?: TaskErrorCode };

export default async function run(task: ThreadTask): Promise<ThreadResult> {
  const key = JSON.stringify([task.options, task.upstreams ?? null]);
  if (!engine || builtWith !== key) {
    await engine?.close();
    const proxies = new Map<number, Segmenter>();
    const segmenter = (size: number) => {
      let s = proxies.get(size);
      if (!s) { s = createSegmenterProxy(size, () => port); proxies.set(size, s); }
      return s;
    };
    const up = task.upstreams;
    const paint = up ? paintWith(up) : undefined;
    // the upstream's task id goes to the worker's main thread as soon as the upstream created it
    const tell = (e: ThreadEvent) => events?.postMessage(e);
    engine = createEngine(task.options, {
      segmenter: async (size) => segmenter(size),
      ...(paint && up
        ? {
            paint: (req) => paint({
              ...req, onCreated: (taskId) => tell({ upstream: { engine: req.engine, taskId } }), ...(linkLayouts ? { imageUrl: askLayoutUrl } : {}),
              ...(callbackUrl && wakes ? { callbackUrl, wakes } : {}),
            }),
            fallback: up.fallback,
          }
        : {}),
    });
    builtWith = key;
  }
  port = task.segmenterPort;
  events = task.eventPort ?? null;
  linkLayouts = task.linkLayouts === true && events !== null;
  callbackUrl = events ? task.upstreamCallbackUrl : undefined;
  wakes = callbackUrl ? new EventTarget() : null;
  if (linkLayouts || callbackUrl) events?.on('message', onAnswer);
  try {
    const result = await engine.transform(task.request, undefined, events ? (stage) => events?.postMessage({ stage } satisfies ThreadEvent) : undefined);
    return { ok: true, result };
  } catch (err) {
    // Bad input is not retried; anything else (a bug, a resource problem) may succeed on another try.
    const permanent = err instanceof ImageDecodeError || (err instanceof Error && err.name === 'PermanentTaskError');
    const source = err instanceof ImageDecodeError ? err.source : undefined;
    // a task error's code (TASK_TIMEOUT from an upstream's deadline) crosses the thread boundary too
    const raw = permanent ? (err as { code?: unknown }).code : undefined;
    const code = typeof raw === 'string' ? (raw as TaskErrorCode) : undefined;
    return { ok: false, permanent, message: err instanceof Error ? err.message : String(err), source, ...(code ? { code } : {}) };
  } finally {
    port.close();
    port = null;
    events = null;
    linkLayouts = false;
    callbackUrl = undefined;
    wakes = null;
    for (const ask of asks.values()) ask.reject(new Error('the task ended before the layout link came'));
    asks.clear();
    task.eventPort?.close();
  }
}
