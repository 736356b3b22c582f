import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { TASK_ERROR_CODES, type TaskErrorCode } from '../../contract/errors.js';
import { PermanentTaskError } from '../../errors.js';
import { Client } from '../../sdk/client.js';
import { ApiError, TaskFailedError } from '../../sdk/errors.js';
import { retryDelay } from '../../sdk/retry.js';

/**
 * hiapi as an upstream: reshoot sends hiapi the layout it framed (the cut-out product placed for
 * the requested ratio and resolution) with the user's prompt, under the same model name, and takes
 * back the painted frame for the product lock. The model is the task's own unless `models` maps it
 * (RESHOOT_HIAPI_UPSTREAM_MODELS; by default Pro, which the real hiapi retired, goes to its
 * image-to-image model). The transport is the SDK's client (the same task API):
 * `POST /v1/tasks` with an Idempotency-Key, `GET /v1/tasks/:id` until a terminal status, then the
 * download of `output[0].url`. On top of it:
 *
 * - 429 and 503 are retried by the client, honouring Retry-After; other 5xx answers to the create
 *   are retried here with backoff under the same Idempotency-Key (so a create the upstream did
 *   perform before failing is replayed, never paid twice), `createAttempts` in all;
 * - the key is derived from the caller's job key, so a retried job sends the same key again;
 * - the layout travels as a `data:` URI in `input_urls[0]` unless `imageUrl` turns it into a link
 *   the upstream can fetch (a signed `/files` link of ours when reshoot is reachable);
 * - upstream failures become task errors: a polled `fail` keeps the upstream's code when it is one
 *   of hiapi's task codes, a deadline is TASK_TIMEOUT, everything else TASK_FAILED with a message
 *   naming the upstream's answer;
 * - with a `callbackUrl` (reshoot is reachable) the create asks hiapi for its final callback
 *   (contract §9) and the task is polled only every `callbackPollMs` as a safety net; a `wake` on
 *   `wakes` (the callback arrived: the worker heard it from the API, in this process or through the
 *   store) makes the next GET at once. The callback's body is never read here: the GET is the truth.
 */

export interface HiapiUpstreamOptions {
  /** the upstream's origin, e.g. https://api.hiapi.ai */
  url: string;
  apiKey: string;
  /** between polls; default 3000 ms */
  pollMs?: number;
  /** between polls while hiapi's callback is awaited (a request with `callbackUrl`): the safety net; default 30000 ms */
  callbackPollMs?: number;
  /** the whole paint (create, polls, download); default 600000 ms */
  timeoutMs?: number;
  /** per HTTP attempt; default 60000 ms */
  requestTimeoutMs?: number;
  /** create attempts on a 5xx answer (429/503 are retried by the client besides); default 3 */
  createAttempts?: number;
  /** first backoff step; default 500 ms */
  retryBaseMs?: number;
  /** turns the layout's bytes into a URL the upstream can fetch; default a data: URI (a request's own `imageUrl` comes first) */
  imageUrl?: (png: Buffer) => Promise<string> | string;
  /** the model a task names → the model the upstream is asked for; a name not here is sent as it is */
  models?: Readonly<Record<string, string>>;
}

export interface PaintRequest {
  model: string;
  /** the user's prompt; the instruction to keep the product is added here */
  prompt: string;
  /** the layout as PNG */
  layout: Buffer;
  /** a PNG of the layout's size whose alpha covers the product (opaque: keep; transparent: paint), for APIs that take one */
  mask?: Buffer;
  aspectRatio: string;
  resolution: string;
  /** stable per job: the upstream Idempotency-Key is derived from it */
  jobKey: string;
  /** an upstream task already created for this job (a restarted worker): poll it instead of creating */
  upstreamTaskId?: string;
  /** told the upstream task id as soon as it exists, so it can be stored before polling */
  onCreated?: (taskId: string) => void | Promise<void>;
  /** this job's way to turn the layout into a URL the upstream fetches (a signed link of ours); hiapi only */
  imageUrl?: (png: Buffer) => Promise<string> | string;
  /** hiapi only: where hiapi posts its final callback (the same for every run of the job, so a replayed create has the same body) */
  callbackUrl?: string;
  /** hiapi only: a `wake` event here means the callback came; the poller asks the upstream at once */
  wakes?: EventTarget;
  signal?: AbortSignal;
}

export interface Painted {
  image: Buffer;
  upstreamTaskId: string;
  /** create attempts made (0 when an existing upstream task was resumed) */
  createAttempts: number;
  /** the upstream answered a create with Idempotent-Replay */
  replayed: boolean;
  /** the model the upstream was asked for, where it differs by API or mapping from the task's */
  model?: string;
  /** hiapi with a callback URL: `received` when the callback's wake led to the answer, `asked` when a safety poll found it first */
  callback?: 'asked' | 'received';
}

/** The event on PaintRequest.wakes that tells the poller the upstream's callback came. */
export const WAKE = 'wake';

/**
 * Sleeps between polls, cut short by a wake. A wake that comes while no one sleeps is kept for the
 * next sleep, so a callback that beats the first poll is not lost.
 */
function waker(wakes: EventTarget | undefined) {
  let pending = false;
  let cut: (() => void) | null = null;
  const onWake = () => {
    pending = true;
    cut?.();
  };
  wakes?.addEventListener(WAKE, onWake);
  return {
    /** true when a wake came since the last call */
    take(): boolean {
      const was = pending;
      pending = false;
      return was;
    },
    /** true when a wake ended the sleep (or had come before it) */
    async sleep(ms: number, signal: AbortSignal): Promise<boolean> {
      if (!pending) {
        const ac = new AbortController();
        cut = () => ac.abort();
        try {
          await delay(ms, undefined, { signal: AbortSignal.any([signal, ac.signal]) });
        } catch (err) {
          if (signal.aborted) throw err;
        } finally {
          cut = null;
        }
      }
      return this.take();
    },
    close: () => wakes?.removeEventListener(WAKE, onWake),
  };
}

/** What reshoot adds to the user's prompt so the upstream paints around the product and leaves it be. */
export const KEEP_PRODUCT = 'Keep the product exactly as it is in the image: same shape, label, colours, size and position; paint only the scene around it.';

/** The upstream Idempotency-Key for a job: stable across retries of the job, opaque to the upstream. */
export function upstreamKey(jobKey: string): string {
  return `reshoot-${createHash('sha256').update(jobKey).digest('hex').slice(0, 40)}`;
}

const TASK_CODES = new Set<string>(TASK_ERROR_CODES);

/** An upstream failure as a task error (see the module comment). */
export function taskErrorFrom(err: unknown, upstream = 'hiapi'): Error {
  if (err instanceof PermanentTaskError) return err;
  if (err instanceof TaskFailedError) {
    const code = (TASK_CODES.has(err.code) ? err.code : 'TASK_FAILED') as TaskErrorCode;
    return new PermanentTaskError(`upstream ${upstream} failed the task: ${err.message}`, code, { cause: err });
  }
  if (err instanceof ApiError) {
    const what = err.status > 0 ? `HTTP ${err.status}${err.code ? ` ${err.code}` : ''}` : err.code;
    const why =
      err.status === 401 || err.status === 403 ? 'refused reshoot\'s key'
        : err.status === 402 ? 'has no balance left for reshoot\'s key'
          : err.status === 400 || err.status === 422 ? 'refused the request'
            : 'did not answer usefully';
    const code: TaskErrorCode = err.code === 'TIMEOUT' ? 'TASK_TIMEOUT' : 'TASK_FAILED';
    return new PermanentTaskError(`upstream ${upstream} ${why} (${what}): ${err.message}`, code, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** An engine that paints a scene around a layout (hiapi, an OpenAI-compatible images API, ComfyUI). */
export interface Upstream {
  /** the route name that selects it */
  readonly name: string;
  paint(req: PaintRequest): Promise<Painted>;
}

export function hiapiUpstream(opts: HiapiUpstreamOptions): Upstream {
  const client = new Client({
    baseUrl: opts.url,
    apiKey: opts.apiKey,
    timeoutMs: opts.requestTimeoutMs ?? 60_000,
    retryBaseMs: opts.retryBaseMs ?? 500,
    userAgent: 'reshoot-upstream',
  });
  const attempts = Math.max(1, opts.createAttempts ?? 3);
  const baseMs = opts.retryBaseMs ?? 500;

  const modelFor = (model: string) => (opts.models && Object.hasOwn(opts.models, model) ? opts.models[model]! : model);

  async function create(req: PaintRequest, signal: AbortSignal): Promise<{ taskId: string; replayed: boolean; tries: number }> {
    const link = req.imageUrl ?? opts.imageUrl;
    const url = link ? await link(req.layout) : `data:image/png;base64,${req.layout.toString('base64')}`;
    const body = {
      model: modelFor(req.model),
      input: {
        prompt: `${req.prompt.trim()}\n\n${KEEP_PRODUCT}`,
        input_urls: [url],
        aspect_ratio: req.aspectRatio,
        resolution: req.resolution,
      },
    };
    const idempotencyKey = upstreamKey(req.jobKey);
    for (let tries = 1; ; tries++) {
      try {
        const created = await client.tasks.createRaw(body, { idempotencyKey, signal, ...(req.callbackUrl ? { callback: { url: req.callbackUrl, when: 'final' as const } } : {}) });
        return { taskId: created.taskId, replayed: created.replayed, tries };
      } catch (err) {
        const retryable = err instanceof ApiError && (err.status >= 500 || err.code === 'NETWORK' || err.code === 'TIMEOUT');
        if (!retryable || tries >= attempts) {
          if (retryable) {
            const e = err as ApiError;
            throw new PermanentTaskError(`upstream hiapi did not create the task: ${tries} attempts, last HTTP ${e.status || e.code}: ${e.message}`, 'TASK_FAILED', { cause: err });
          }
          throw taskErrorFrom(err);
        }
        const after = err instanceof ApiError ? err.retryAfterMs : undefined;
        await delay(retryDelay(tries - 1, after, baseMs), undefined, { signal });
      }
    }
  }

  return {
    name: 'hiapi',
    async paint(req) {
      const deadline = AbortSignal.timeout(opts.timeoutMs ?? 600_000);
      const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
      const wake = waker(req.callbackUrl ? req.wakes : undefined);
      const interval = req.callbackUrl ? (opts.callbackPollMs ?? 30_000) : (opts.pollMs ?? 3000);
      /** whether the answer came from a GET a wake started (the callback), not from a safety poll */
      let byCallback = false;
      try {
        // GET until a terminal status; between GETs the interval, or less when the callback wakes us
        const wait = async (id: string) => {
          byCallback = wake.take();
          for (;;) {
            const task = await client.tasks.get(id, { signal });
            if (task.status === 'success') return task;
            if (task.status === 'fail') throw new TaskFailedError(task);
            // anything else, including statuses this client does not know, is still running (contract §5)
            byCallback = await wake.sleep(interval, signal);
          }
        };
        const created = async () => {
          const c = await create(req, signal);
          await req.onCreated?.(c.taskId);
          return { ...c, task: await wait(c.taskId) };
        };
        let run: { taskId: string; tries: number; replayed: boolean; task: Awaited<ReturnType<typeof wait>> };
        if (!req.upstreamTaskId) run = await created();
        else {
          try {
            run = { taskId: req.upstreamTaskId, tries: 0, replayed: false, task: await wait(req.upstreamTaskId) };
          } catch (err) {
            // the stored task is gone upstream (its history expired, or another account's): create it again
            if (!(err instanceof ApiError && err.status === 404)) throw err;
            run = await created();
          }
        }
        const { taskId, tries, replayed, task } = run;
        const first = task.output?.find((o) => o.type === 'image') ?? task.output?.[0];
        if (!first) throw new PermanentTaskError(`upstream hiapi task ${taskId} succeeded without an output`, 'TASK_FAILED');
        const chunks: Buffer[] = [];
        await client.download(first, new Writable({ write: (c: Buffer, _e, cb) => { chunks.push(c); cb(); } }), { signal });
        return {
          image: Buffer.concat(chunks), upstreamTaskId: taskId, createAttempts: tries, replayed, model: modelFor(req.model),
          ...(req.callbackUrl ? { callback: byCallback ? ('received' as const) : ('asked' as const) } : {}),
        };
      } catch (err) {
        if (deadline.aborted && !req.signal?.aborted) {
          throw new PermanentTaskError(`upstream hiapi did not finish within ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`, 'TASK_TIMEOUT', { cause: err });
        }
        throw taskErrorFrom(err);
      } finally {
        wake.close();
      }
    },
  };
}

