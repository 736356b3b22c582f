import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from '../contract/idempotency.js';
import { servedRoutes, type ServedModel, type ServedRoutes } from '../contract/served-models.js';
import type { LibrarySceneInfo } from '../contract/scenes.js';
import type { TaskList, TaskObject, TaskOutput } from '../contract/task.js';
import { checkCreateBody } from './check.js';
import { ApiError, TaskFailedError, codeForStatus } from './errors.js';
import { readTask, readTaskId, readTaskList } from './read.js';
import { parseRetryAfter, retryDelay, sleep } from './retry.js';
import type {
  ClientOptions,
  CreateOptions,
  CreatedTask,
  DownloadResult,
  ListOptions,
  ModelInputs,
  ModelName,
  PricingRow,
  RequestOptions,
  TransformOptions,
  TransformResultRemote,
  UploadOptions,
  WaitOptions,
} from './types.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a status means "refused before any work, try again" (contract §7.4). */
function retryableStatus(res: Response): boolean {
  if (res.status === 429 || res.status === 503) return true;
  // 409 IDEMPOTENCY_KEY_PROCESSING comes with Retry-After; other 409s would not.
  return res.status === 409 && res.headers.has('retry-after');
}

function sniffImageType(b: Uint8Array): string {
  const hex = Buffer.from(b.subarray(0, 12)).toString('hex');
  if (hex.startsWith('89504e47')) return 'image/png';
  if (hex.startsWith('ffd8ff')) return 'image/jpeg';
  if (hex.startsWith('52494646') && hex.slice(16, 24) === '57454250') return 'image/webp';
  if (hex.slice(8, 16) === '66747970') return 'image/avif';
  if (hex.startsWith('49492a00') || hex.startsWith('4d4d002a')) return 'image/tiff';
  return 'application/octet-stream';
}

function checkIdempotencyKey(key: string): void {
  if (!isValidIdempotencyKey(key)) throw new ApiError({ status: 0, code: 'INVALID_REQUEST', message: `idempotencyKey: ${IDEMPOTENCY_KEY_RULE}` });
}

interface SendInit extends RequestOptions {
  method: 'GET' | 'POST';
  body?: string | FormData;
  headers?: Record<string, string>;
  /** retry when no answer arrived: safe for GET, and for POST only with an Idempotency-Key */
  retryNetwork: boolean;
  /** send the API key (false for third-party download hosts) */
  auth?: boolean;
}

/**
 * A typed client for reshoot and for hiapi itself (the same task API, docs/contract.md).
 *
 * @example
 * ```ts
 * import { Client } from 'reshoot/sdk';
 *
 * const client = new Client({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.RESHOOT_API_KEY! });
 * const { url } = await client.uploads.create('./sneaker.jpg');
 * const { task } = await client.transform(
 *   'gpt-image-2-image-to-image',
 *   { prompt: 'on wet concrete under soft morning light', input_urls: [url], aspect_ratio: '4:3', resolution: '2K' },
 *   { out: './sneaker-concrete.png' },
 * );
 * console.log(task.taskId, task.output?.[0]?.url);
 * ```
 */
export class Client {
  /** the server root, without `/v1` */
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;

  /** `POST /v1/tasks`, `GET /v1/tasks/:id`, `GET /v1/tasks`, and polling. */
  readonly tasks: {
    /**
     * Creates a task; the input is typed and checked per model before anything is sent.
     * @example
     * ```ts
     * const { taskId } = await client.tasks.create('gpt-image-2-image-to-image-pro', {
     *   prompt: 'on a marble counter', input_urls: ['https://example.com/bottle.png'], aspect_ratio: '4:5',
     * }, { idempotencyKey: 'sku-1234-marble' });
     * ```
     */
    create<M extends ModelName>(model: M, input: ModelInputs[M], opts?: CreateOptions): Promise<CreatedTask>;
    /**
     * Creates a task from a raw body, for models this SDK has no types for. Known models are still checked.
     * @example
     * ```ts
     * await client.tasks.createRaw({ model: 'some-new-model', input: { prompt: 'a cat' } });
     * ```
     */
    createRaw(body: { model: string; input: Record<string, unknown> }, opts?: CreateOptions): Promise<CreatedTask>;
    /**
     * One task: status, outputs or the failure.
     * @example
     * ```ts
     * const task = await client.tasks.get('tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR');
     * if (task.status === 'success') console.log(task.output?.[0]?.url);
     * ```
     */
    get(taskId: string, opts?: RequestOptions): Promise<TaskObject>;
    /**
     * The caller's tasks, newest first.
     * @example
     * ```ts
     * const { tasks, total } = await client.tasks.list({ page: 1, size: 50 });
     * ```
     */
    list(opts?: ListOptions): Promise<TaskList>;
    /**
     * Polls until `success` (returned) or `fail` (thrown as TaskFailedError). Unknown statuses keep it polling.
     * @example
     * ```ts
     * const task = await client.tasks.wait(taskId, { intervalMs: 2000, onStatus: (t) => console.log(t.status) });
     * ```
     */
    wait(taskId: string, opts?: WaitOptions): Promise<TaskObject>;
  };

  /** `POST /v1/uploads` (reshoot only; hiapi itself takes URLs). */
  readonly uploads: {
    /**
     * Uploads a local file (path), bytes or a Blob (≤ 20 MB) and returns a URL to put in `input_urls`.
     * @example
     * ```ts
     * const { url } = await client.uploads.create('./packshots/sneaker.jpg');
     * ```
     */
    create(file: string | Uint8Array | Blob, opts?: UploadOptions): Promise<{ url: string }>;
  };

  constructor(opts: ClientOptions) {
    if (!opts || typeof opts.baseUrl !== 'string' || !URL.canParse(opts.baseUrl)) {
      throw new TypeError(`Expected an http(s) URL for baseUrl but received ${JSON.stringify(opts?.baseUrl)}`);
    }
    const u = new URL(opts.baseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`Expected an http(s) URL for baseUrl but received ${opts.baseUrl}`);
    if (typeof opts.apiKey !== 'string' || opts.apiKey === '') throw new TypeError('Expected a non-empty string for apiKey');
    this.baseUrl = `${u.origin}${u.pathname}`.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxRetries = opts.maxRetries ?? 3;
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.fetchImpl = opts.fetch ?? fetch;
    this.userAgent = `reshoot-sdk (node ${process.version})${opts.userAgent ? ` ${opts.userAgent}` : ''}`;

    this.tasks = {
      create: (model, input, o) => this.create({ model, input: input as unknown as Record<string, unknown> }, o),
      createRaw: (body, o) => this.create(body, o),
      get: (id, o) => this.getTask(id, o),
      list: (o) => this.listTasks(o),
      wait: (id, o) => this.waitTask(id, o),
    };
    this.uploads = { create: (file, o) => this.upload(file, o) };
  }

  /**
   * Create, wait, download: one call from input to image. `out` takes a path or a stream; without it
   * the bytes come back in `data`.
   * @example
   * ```ts
   * const { task, download } = await client.transform(
   *   'gpt-image-2-image-to-image',
   *   { prompt: 'studio, dark slate, rim light', input_urls: [url], aspect_ratio: '1:1' },
   *   { out: 'hero.png', onStatus: (t) => console.log(t.status) },
   * );
   * ```
   */
  async transform<M extends ModelName>(model: M, input: ModelInputs[M], opts: TransformOptions = {}): Promise<TransformResultRemote> {
    const { out, intervalMs, timeoutMs, onStatus, ...createOpts } = opts;
    const created = await this.tasks.create(model, input, createOpts);
    const task = await this.waitTask(created.taskId, { intervalMs, timeoutMs, onStatus, signal: opts.signal });
    const first = task.output?.[0];
    if (!first) {
      throw new ApiError({ status: 200, code: 'INVALID_RESPONSE', message: `task ${task.taskId} succeeded without an output`, body: task });
    }
    if (out !== undefined) return { task, download: await this.download(first, out, { signal: opts.signal }) };
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, cb) => { chunks.push(c); cb(); } });
    const download = await this.download(first, sink, { signal: opts.signal });
    return { task, download, data: new Uint8Array(Buffer.concat(chunks)) };
  }

  /**
   * Downloads an output (or any URL) to a file path (written atomically) or a writable stream.
   * The API key is sent only to the client's own server, never to a CDN.
   * @example
   * ```ts
   * const task = await client.tasks.wait(taskId);
   * await client.download(task.output![0]!, './out/hero.png');
   * ```
   */
  async download(output: TaskOutput | string, dest: string | NodeJS.WritableStream, opts: RequestOptions = {}): Promise<DownloadResult> {
    const url = typeof output === 'string' ? output : output.url;
    let body: Readable;
    let contentType: string | undefined;
    const dataUri = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(url);
    if (dataUri) {
      contentType = dataUri[1];
      body = Readable.from([dataUri[2] ? Buffer.from(dataUri[3]!, 'base64') : Buffer.from(decodeURIComponent(dataUri[3]!))]);
    } else {
      const sameOrigin = URL.canParse(url) && new URL(url).origin === new URL(this.baseUrl).origin;
      const res = await this.fetchWithRetries(url, { method: 'GET', retryNetwork: true, auth: sameOrigin, signal: opts.signal });
      if (!res.ok || !res.body) throw await this.errorFrom(res);
      contentType = res.headers.get('content-type') ?? undefined;
      body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    }
    let bytes = 0;
    body.on('data', (c: Buffer) => { bytes += c.length; });
    if (typeof dest !== 'string') {
      await pipeline(body, dest, { signal: opts.signal });
      return { bytes, contentType };
    }
    // Write beside the target and rename, so a crash never leaves a half image under the real name.
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${randomUUID().slice(0, 8)}.part`);
    try {
      await pipeline(body, createWriteStream(tmp), { signal: opts.signal });
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw this.transportError(err, opts.signal, undefined);
    }
    return { bytes, contentType, path: dest };
  }

  /**
   * `GET /api/pricing`: price rows per model (contract §12). Use `priceFor` to price an input.
   * @example
   * ```ts
   * const rows = await client.pricing();
   * ```
   */
  async pricing(opts: RequestOptions = {}): Promise<PricingRow[]> {
    const { data } = await this.send('/api/pricing', { method: 'GET', retryNetwork: true, signal: opts.signal }, true);
    const rows = Array.isArray(data) ? data : isObject(data) && Array.isArray(data.rows) ? data.rows : [];
    return rows as PricingRow[];
  }

  /**
   * `GET /v1/models`: the models the server offers, as it describes them.
   * @example
   * ```ts
   * for (const m of await client.models()) console.log(m);
   * ```
   */
  async models(opts: RequestOptions = {}): Promise<ServedModel[]> {
    const { data } = await this.send('/v1/models', { method: 'GET', retryNetwork: true, signal: opts.signal });
    if (Array.isArray(data)) return data as ServedModel[];
    if (isObject(data) && Array.isArray(data.models)) return data.models as ServedModel[];
    return [];
  }

  /**
   * `GET /v1/scenes` (reshoot): the operator's scene library — photos of their own sets, each with
   * the tags a prompt names it by and a signed thumbnail link. Empty on a server without one (and
   * on hiapi itself, which answers 404: also an empty list).
   * @example
   * ```ts
   * const [table] = await client.scenes();
   * if (table) await client.tasks.create(model, { prompt: `on the ${table.tags[0]}`, input_urls: [url] });
   * ```
   */
  async scenes(opts: RequestOptions = {}): Promise<LibrarySceneInfo[]> {
    try {
      const { data } = await this.send('/v1/scenes', { method: 'GET', retryNetwork: true, signal: opts.signal });
      return Array.isArray(data) ? (data as LibrarySceneInfo[]) : [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }
  }

  /**
   * The values of `route` the server accepts (`default` first, then the engines it configured) and the
   * engine `default` means, read from `GET /v1/models`; a server that lists none (hiapi itself) accepts
   * only its default route.
   * @example
   * ```ts
   * const { routes } = await client.routes();
   * if (routes.includes('hiapi')) await client.tasks.create(model, input, { route: 'hiapi' });
   * ```
   */
  async routes(opts: RequestOptions = {}): Promise<ServedRoutes> {
    return servedRoutes(await this.models(opts));
  }

  private async create(body: { model: string; input: Record<string, unknown> }, opts: CreateOptions = {}): Promise<CreatedTask> {
    const wire: Record<string, unknown> = { model: body.model, input: body.input };
    if (opts.callback) wire.callback = { url: opts.callback.url, when: opts.callback.when ?? 'final' };
    // §8: an empty route is left out, not sent as "", so a replay stays byte-identical.
    if (opts.route) wire.route = opts.route;
    if (opts.storage) wire.storage = opts.storage;
    checkCreateBody(wire as { model: string; input: Record<string, unknown> });
    const idempotencyKey = opts.idempotencyKey ?? randomUUID();
    checkIdempotencyKey(idempotencyKey);
    // Serialised once: every retry sends the same bytes, which is what the server compares.
    const json = JSON.stringify(wire);
    const { data, res, requestId } = await this.send('/v1/tasks', {
      method: 'POST',
      body: json,
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      retryNetwork: true,
      signal: opts.signal,
    });
    const taskId = readTaskId(data);
    if (!taskId) throw new ApiError({ status: res.status, code: 'INVALID_RESPONSE', message: 'create answered without data.taskId', requestId, body: data });
    return { taskId, idempotencyKey, replayed: res.headers.get('idempotent-replay') === 'true', requestId };
  }

  private async getTask(taskId: string, opts: RequestOptions = {}): Promise<TaskObject> {
    if (typeof taskId !== 'string' || taskId === '' || taskId.includes('/')) {
      throw new ApiError({ status: 0, code: 'INVALID_REQUEST', message: `taskId: expected a task id but received ${JSON.stringify(taskId)}` });
    }
    const { data, requestId, res } = await this.send(`/v1/tasks/${encodeURIComponent(taskId)}`, { method: 'GET', retryNetwork: true, signal: opts.signal });
    try {
      return readTask(data);
    } catch (err) {
      throw new ApiError({ status: res.status, code: 'INVALID_RESPONSE', message: (err as Error).message, requestId, body: data });
    }
  }

  private async listTasks(opts: ListOptions = {}): Promise<TaskList> {
    const q = new URLSearchParams();
    if (opts.page !== undefined) q.set('page', String(opts.page));
    if (opts.size !== undefined) q.set('size', String(opts.size));
    const qs = q.size > 0 ? `?${q}` : '';
    const { data, requestId, res } = await this.send(`/v1/tasks${qs}`, { method: 'GET', retryNetwork: true, signal: opts.signal });
    try {
      return readTaskList(data);
    } catch (err) {
      throw new ApiError({ status: res.status, code: 'INVALID_RESPONSE', message: (err as Error).message, requestId, body: data });
    }
  }

  private async waitTask(taskId: string, opts: WaitOptions = {}): Promise<TaskObject> {
    const interval = opts.intervalMs ?? 3000;
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    let last: string | undefined;
    for (;;) {
      const task = await this.getTask(taskId, { signal: opts.signal });
      if (task.status !== last) {
        last = task.status;
        opts.onStatus?.(task);
      }
      if (task.status === 'success') return task;
      if (task.status === 'fail') throw new TaskFailedError(task);
      // Anything else, including statuses this SDK does not know, is still running (contract §5).
      if (Date.now() + interval > deadline) {
        throw new ApiError({
          status: 0,
          code: 'TIMEOUT',
          message: `task ${taskId} still ${task.status} after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s; it keeps running on the server`,
          body: task,
        });
      }
      await sleep(interval, opts.signal);
    }
  }

  private async upload(file: string | Uint8Array | Blob, opts: UploadOptions = {}): Promise<{ url: string }> {
    let blob: Blob;
    let filename = opts.filename;
    if (typeof file === 'string') {
      const bytes = await readFile(file);
      filename ??= path.basename(file);
      blob = new Blob([new Uint8Array(bytes)], { type: opts.contentType ?? sniffImageType(bytes) });
    } else if (file instanceof Uint8Array) {
      blob = new Blob([new Uint8Array(file)], { type: opts.contentType ?? sniffImageType(file) });
    } else {
      blob = opts.contentType ? new Blob([file], { type: opts.contentType }) : file;
    }
    const form = new FormData();
    form.append('file', blob, filename ?? 'upload');
    // No Idempotency-Key exists for uploads, so a lost answer is not retried (it may have been stored).
    const { data, requestId, res } = await this.send('/v1/uploads', { method: 'POST', body: form, retryNetwork: false, signal: opts.signal });
    if (!isObject(data) || typeof data.url !== 'string') {
      throw new ApiError({ status: res.status, code: 'INVALID_RESPONSE', message: 'upload answered without data.url', requestId, body: data });
    }
    return { url: data.url };
  }

  /** One API call: retries, then the envelope's `data` (or the whole body when `bare`). */
  private async send(pathAndQuery: string, init: SendInit, bare = false): Promise<{ data: unknown; res: Response; requestId?: string }> {
    const res = await this.fetchWithRetries(`${this.baseUrl}${pathAndQuery}`, { ...init, auth: true });
    const requestId = res.headers.get('x-request-id') ?? undefined;
    if (!res.ok) throw await this.errorFrom(res);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw this.transportError(err, init.signal, requestId);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError({ status: res.status, code: 'INVALID_RESPONSE', message: `expected JSON from ${pathAndQuery}`, requestId, body: text.slice(0, 2000) });
    }
    if (bare && !(isObject(body) && 'data' in body && 'code' in body)) return { data: body, res, requestId };
    if (!isObject(body) || !('data' in body)) {
      throw new ApiError({ status: res.status, code: 'INVALID_RESPONSE', message: `expected a {code, message, data} envelope from ${pathAndQuery}`, requestId, body });
    }
    // The envelope's code repeats the HTTP status; a 2xx carrying an error envelope is still an error.
    if (typeof body.code === 'number' && body.code >= 400) {
      throw new ApiError({ status: body.code, code: codeForStatus(body.code, body.error_code), message: String(body.message ?? 'error'), requestId, body });
    }
    return { data: body.data, res, requestId };
  }

  private async fetchWithRetries(url: string, init: SendInit): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent, ...init.headers };
    if (init.auth) headers.authorization = `Bearer ${this.apiKey}`;
    for (let attempt = 0; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method: init.method, headers, body: init.body, signal });
      } catch (err) {
        if (init.signal?.aborted) throw init.signal.reason;
        const e = this.transportError(err, init.signal, undefined, timeout.aborted);
        if (!init.retryNetwork || attempt >= this.maxRetries) throw e;
        await sleep(retryDelay(attempt, undefined, this.retryBaseMs), init.signal);
        continue;
      }
      if (!retryableStatus(res) || attempt >= this.maxRetries) return res;
      const wait = retryDelay(attempt, parseRetryAfter(res.headers.get('retry-after')), this.retryBaseMs);
      // Drain the refused answer so its connection goes back to the pool.
      await res.arrayBuffer().catch(() => undefined);
      await sleep(wait, init.signal);
    }
  }

  private transportError(err: unknown, signal: AbortSignal | undefined, requestId: string | undefined, timedOut = false): unknown {
    if (err instanceof ApiError) return err;
    if (signal?.aborted) return signal.reason;
    const isTimeout = timedOut || (err instanceof Error && err.name === 'TimeoutError');
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new ApiError({
      status: 0,
      code: isTimeout ? 'TIMEOUT' : 'NETWORK',
      message: isTimeout ? `no answer within ${this.timeoutMs} ms` : `network error: ${detail}`,
      requestId,
      cause: err,
    });
  }

  private async errorFrom(res: Response): Promise<ApiError> {
    const requestId = res.headers.get('x-request-id') ?? undefined;
    const text = await res.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (a proxy's HTML page): keep the text
    }
    const env = isObject(body) ? body : {};
    const message = typeof env.message === 'string' && env.message !== '' ? env.message : `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    return new ApiError({
      status: res.status,
      code: codeForStatus(res.status, env.error_code),
      message,
      requestId,
      body,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    });
  }
}
