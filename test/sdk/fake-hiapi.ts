import { createHash } from 'node:crypto';
import { signCallback } from '../../src/sdk/callbacks.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newTaskId } from '../../src/contract/ids.js';

/**
 * A small hiapi look-alike on loopback for SDK tests: real HTTP, the contract's envelope, and
 * scripted faults (429 with Retry-After, 503, a dropped connection, a hanging answer).
 * Tasks move one status per GET: queued → handling → archiving → success, or → fail when the
 * prompt contains "FAIL". With `fetchInputs` it downloads each http(s) `input_urls` entry when the task
 * is created, as the real hiapi does (it takes public URLs only); a failed download fails the task with
 * `input_urls[i]: download failed (HTTP n)`.
 *
 * A task created with a `callback` runs in time instead, as the real one does: `queued`, then
 * `handling` until `runMs` have passed and its output is painted, then its final status; then the
 * fake POSTs the bare task object to `callback.url` (contract §9), signed with `webhookSecret` when it
 * has one, retried on a non-2xx answer or a network error after each `callbackRetryMs` step.
 */

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; errorCode?: string; message?: string }
  /** destroy the socket without answering; `afterWork` performs the request first (a lost answer) */
  | { kind: 'drop'; afterWork?: boolean }
  | { kind: 'hang' };

interface FakeTask {
  taskId: string;
  model: string;
  statuses: string[];
  step: number;
  created: number;
  completed: number;
  error?: { code: string; message: string };
  /** what `paint` made of the task's input (the output file), when the fake was given a painter */
  image?: Promise<Buffer>;
  /** `callback.url` of the create: the task runs in time and ends with a callback */
  callback?: string;
  /** a timed task has reached its final status */
  final?: boolean;
}

/** One callback POST the fake made, and what the receiver answered (0: no answer). */
export interface SentCallback {
  taskId: string;
  url: string;
  attempt: number;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RequestLog {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeHiapi {
  url: string;
  apiKey: string;
  requests: RequestLog[];
  /** the http(s) input_urls it downloaded (`fetchInputs`), in order: the URL, the answer's status, the bytes */
  fetched: Array<{ url: string; status: number; contentType: string; bytes: Buffer }>;
  /** tasks really created (replays and refusals excluded) */
  created: () => number;
  uploads: () => number;
  /** the next request matching `route` ("POST /v1/tasks", "GET /v1/tasks/:id", "POST /v1/uploads") gets `fault` */
  fault(route: string, fault: Fault, times?: number): void;
  /** statuses a task created with this prompt walks through (after queued) */
  script(prompt: string, statuses: string[]): void;
  /** drops every Idempotency-Key seen so far (hiapi keeps them 24 h): the next create with one creates anew */
  forgetIdempotencyKeys(): void;
  /** the callbacks it posted, each attempt */
  callbacks: SentCallback[];
  /** while true, tasks end without a callback (one that never comes) */
  holdCallbacks(hold: boolean): void;
  /** GET /v1/tasks/:id requests for one task */
  polls(taskId: string): number;
  close(): Promise<void>;
}

const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

export interface FakeHiapiOptions {
  /**
   * Paints each created task's output from its request body (an upstream model: reshoot's generative
   * tests repaint the layout they were sent); without it every output is a 1×1 PNG.
   */
  paint?: (body: { model: string; input: Record<string, unknown>; refs: Buffer[] }) => Promise<Buffer>;
  /** download http(s) input_urls at create, like the real hiapi; `refs` then holds their bytes (data: URIs decoded either way) */
  fetchInputs?: boolean;
  /** the account's webhook signing key: callbacks carry X-HiAPI-Timestamp and X-HiAPI-Signature */
  webhookSecret?: string;
  /** how long a task created with a callback runs (at least until its output is painted); default 100 ms */
  runMs?: number;
  /** the waits before each retry of a callback (hiapi: +1, +5, +20 min); default [60000, 240000, 900000] */
  callbackRetryMs?: number[];
}

/** Each input_urls entry's bytes: a data: URI decoded, an http(s) URL downloaded (when asked), or why not. */
async function readRefs(
  urls: unknown,
  fetchInputs: boolean,
  fetched: FakeHiapi['fetched'],
): Promise<{ refs: Buffer[]; error?: string }> {
  const refs: Buffer[] = [];
  const list = Array.isArray(urls) ? urls.map(String) : [];
  for (const [i, u] of list.entries()) {
    const data = /^data:[^;,]+;base64,(.*)$/s.exec(u);
    if (data) refs.push(Buffer.from(data[1]!, 'base64'));
    else if (fetchInputs && /^https?:\/\//.test(u)) {
      let res: Response;
      try {
        res = await fetch(u, { redirect: 'follow' });
      } catch (err) {
        return { refs, error: `input_urls[${i}]: download failed (${(err as Error).message})` };
      }
      const bytes = Buffer.from(await res.arrayBuffer());
      fetched.push({ url: u, status: res.status, contentType: res.headers.get('content-type') ?? '', bytes });
      if (!res.ok) return { refs, error: `input_urls[${i}]: download failed (HTTP ${res.status})` };
      refs.push(bytes);
    }
  }
  return { refs };
}

export async function startFakeHiapi(opts: FakeHiapiOptions = {}): Promise<FakeHiapi> {
  const apiKey = 'sk-test-fake';
  const tasks = new Map<string, FakeTask>();
  const idem = new Map<string, { hash: string; taskId: string }>();
  const faults: Array<{ route: string; fault: Fault }> = [];
  const scripts = new Map<string, string[]>();
  const requests: RequestLog[] = [];
  const fetched: FakeHiapi['fetched'] = [];
  let createdCount = 0;
  let uploadCount = 0;
  let reqSeq = 0;
  const callbacks: SentCallback[] = [];
  let holding = false;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req-${++reqSeq}`, ...headers });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, errorCode: string | undefined, message: string, headers: Record<string, string> = {}) =>
    send(res, status, { code: status, message, data: null, ...(errorCode ? { error_code: errorCode } : {}) }, headers);

  const view = (t: FakeTask, base: string) => {
    const status = t.callback
      ? t.final ? t.statuses.at(-1)! : t.step === 0 ? 'queued' : 'handling'
      : t.statuses[Math.min(t.step, t.statuses.length - 1)]!;
    const o: Record<string, unknown> = { taskId: t.taskId, model: t.model, status, created: t.created, completed: 0, storage: 'temp' };
    if (status === 'success' || status === 'fail') {
      t.completed ||= t.created + 5;
      o.completed = t.completed;
    }
    if (status === 'success') o.output = [{ url: `${base}/files/${t.taskId}.png`, type: 'image', expireAt: t.completed + 604800 }];
    if (status === 'fail') o.error = t.error ?? { code: 'TASK_FAILED', message: 'input_urls[0]: download failed (HTTP 404)' };
    return o;
  };

  /** POSTs the bare task object to the task's callback URL, retrying as hiapi does */
  const deliver = async (t: FakeTask, base: string, attempt: number) => {
    const { storage: _storage, ...task } = view(t, base);
    const body = JSON.stringify(task);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.webhookSecret) {
      const ts = String(Math.floor(Date.now() / 1000));
      headers['x-hiapi-timestamp'] = ts;
      headers['x-hiapi-signature'] = signCallback(body, ts, opts.webhookSecret);
    }
    let status = 0;
    try {
      const res = await fetch(t.callback!, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      // no answer: status stays 0
    }
    callbacks.push({ taskId: t.taskId, url: t.callback!, attempt, status, headers, body });
    const retries = opts.callbackRetryMs ?? [60_000, 240_000, 900_000];
    if ((status < 200 || status > 299) && attempt <= retries.length) later(retries[attempt - 1]!, () => void deliver(t, base, attempt + 1));
  };
  /** a timed task: final after runMs and its painting, then its callback */
  const runInTime = (t: FakeTask, base: string) => {
    const painted = (t.image ?? Promise.resolve(PNG_1x1)).catch(() => undefined);
    later(opts.runMs ?? 100, () => {
      void painted.then(() => {
        t.final = true;
        if (!holding) void deliver(t, base, 1);
      });
    });
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const base = `http://${req.headers.host}`;
    requests.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body: raw.toString('utf8') });
    const route =
      req.method === 'GET' && /^\/v1\/tasks\/[^/]+$/.test(url.pathname) ? 'GET /v1/tasks/:id' : `${req.method} ${url.pathname}`;

    const fi = faults.findIndex((f) => f.route === route);
    const fault = fi >= 0 ? faults.splice(fi, 1)[0]!.fault : undefined;
    if (fault?.kind === 'hang') return; // never answer
    if (fault?.kind === 'drop' && !fault.afterWork) {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      return fail(res, fault.status, fault.errorCode, fault.message ?? `HTTP ${fault.status}`, headers);
    }
    // After the work is done, drop the answer instead of sending it.
    const respond: typeof send = fault?.kind === 'drop' ? () => req.socket.destroy() : send;

    if (url.pathname.startsWith('/files/')) {
      const painted = tasks.get(url.pathname.slice('/files/'.length).replace(/\.png$/, ''))?.image;
      const png = painted ? await painted.catch(() => undefined) : PNG_1x1;
      if (!png) return fail(res, 500, undefined, 'painting failed');
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
      return;
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) return fail(res, 401, undefined, 'invalid api key');

    if (route === 'POST /v1/tasks') {
      let body: { model?: string; input?: { prompt?: string } & Record<string, unknown>; callback?: { url?: unknown } };
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return fail(res, 400, 'INVALID_REQUEST', 'invalid request');
      }
      const key = req.headers['idempotency-key'];
      const hash = createHash('sha256').update(raw).digest('hex');
      if (typeof key === 'string') {
        const seen = idem.get(key);
        if (seen && seen.hash !== hash) {
          return fail(res, 422, 'IDEMPOTENCY_KEY_MISMATCH', 'Idempotency-Key was already used with a different request body');
        }
        if (seen) return respond(res, 200, { code: 200, message: 'success', data: { taskId: seen.taskId } }, { 'idempotent-replay': 'true' });
      }
      const prompt = body.input?.prompt ?? '';
      const read = await readRefs(body.input?.input_urls, opts.fetchInputs === true, fetched);
      const statuses = ['queued', ...(scripts.get(prompt) ?? (prompt.includes('FAIL') || read.error ? ['handling', 'fail'] : ['handling', 'archiving', 'success']))];
      const t: FakeTask = { taskId: newTaskId(), model: body.model ?? '', statuses, step: 0, created: Math.floor(Date.now() / 1000), completed: 0 };
      if (read.error) t.error = { code: 'TASK_FAILED', message: read.error };
      else if (opts.paint) {
        t.image = opts.paint({ model: t.model, input: body.input ?? {}, refs: read.refs });
        t.image.catch(() => undefined);
      }
      if (typeof body.callback?.url === 'string') t.callback = body.callback.url;
      tasks.set(t.taskId, t);
      createdCount++;
      if (t.callback) runInTime(t, base);
      if (typeof key === 'string') idem.set(key, { hash, taskId: t.taskId });
      return respond(res, 200, { code: 200, message: 'success', data: { taskId: t.taskId } });
    }
    if (route === 'GET /v1/tasks/:id') {
      const t = tasks.get(decodeURIComponent(url.pathname.slice('/v1/tasks/'.length)));
      if (!t) return fail(res, 404, 'NOT_FOUND', 'task not found');
      const body = view(t, base);
      t.step++;
      return respond(res, 200, { code: 200, message: 'success', data: body });
    }
    if (route === 'GET /v1/tasks') {
      const all = [...tasks.values()].reverse();
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('size') ?? 10);
      const slice = all.slice((page - 1) * size, page * size).map((t) => view(t, base));
      return respond(res, 200, { code: 200, message: 'success', data: { page, size, total: all.length, tasks: slice } });
    }
    if (route === 'POST /v1/uploads') {
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: raw }).formData();
      const file = form.get('file');
      if (!(file instanceof Blob)) return fail(res, 400, 'INVALID_REQUEST', 'file: a multipart file field is required');
      uploadCount++;
      return respond(res, 200, { code: 200, message: 'success', data: { url: `${base}/files/upload-${uploadCount}-${(file as File).name}` } });
    }
    return fail(res, 404, 'NOT_FOUND', 'not found');
  });
  // Short keep-alive so a test's closed server never meets a silently reused socket.
  server.keepAliveTimeout = 50;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    fetched,
    created: () => createdCount,
    uploads: () => uploadCount,
    fault: (route, fault, times = 1) => {
      for (let i = 0; i < times; i++) faults.push({ route, fault });
    },
    script: (prompt, statuses) => scripts.set(prompt, statuses),
    forgetIdempotencyKeys: () => idem.clear(),
    callbacks,
    holdCallbacks: (hold) => {
      holding = hold;
    },
    polls: (taskId) => requests.filter((r) => r.method === 'GET' && r.path === `/v1/tasks/${taskId}`).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
