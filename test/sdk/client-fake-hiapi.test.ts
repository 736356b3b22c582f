import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, Client, TaskFailedError } from '../../src/sdk/index.js';
import { startFakeHiapi, type FakeHiapi } from './fake-hiapi.js';

const INPUT = { prompt: 'on wet concrete', input_urls: ['https://example.com/sneaker.jpg'], aspect_ratio: '4:3', resolution: '2K' } as const;

let hiapi: FakeHiapi;
let client: Client;
let tmp: string;

beforeEach(async () => {
  hiapi = await startFakeHiapi();
  client = new Client({ baseUrl: `${hiapi.url}/v1`, apiKey: hiapi.apiKey, retryBaseMs: 20, timeoutMs: 5000 });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-sdk-'));
});
afterEach(async () => {
  await hiapi.close();
  await rm(tmp, { recursive: true, force: true });
});

const creates = () => hiapi.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks');

describe('Client against a fake hiapi server', () => {
  it('creates, polls through every status and downloads the output', async () => {
    const created = await client.tasks.create('gpt-image-2-image-to-image', INPUT);
    expect(created.taskId).toMatch(/^tk-hiapi-[0-9A-Z]{26}$/);
    expect(created.replayed).toBe(false);
    expect(created.requestId).toMatch(/^req-/);

    const [req] = creates();
    expect(req!.headers.authorization).toBe(`Bearer ${hiapi.apiKey}`);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['idempotency-key']).toBe(created.idempotencyKey);
    expect(JSON.parse(req!.body)).toEqual({ model: 'gpt-image-2-image-to-image', input: INPUT });

    const seen: string[] = [];
    const task = await client.tasks.wait(created.taskId, { intervalMs: 5, onStatus: (t) => seen.push(t.status) });
    expect(seen).toEqual(['queued', 'handling', 'archiving', 'success']);
    expect(task.output).toHaveLength(1);

    const file = path.join(tmp, 'out.png');
    const dl = await client.download(task.output![0]!, file);
    expect(dl).toMatchObject({ path: file, contentType: 'image/png' });
    expect((await readFile(file)).subarray(1, 4).toString()).toBe('PNG');
    expect((await stat(file)).size).toBe(dl.bytes);
    // the key goes only to the API; a download URL gets none unless it is the same origin
    const fileReq = hiapi.requests.find((r) => r.path.startsWith('/files/'));
    expect(fileReq!.headers.authorization).toBe(`Bearer ${hiapi.apiKey}`);
  });

  it('transform() chains create, wait and download and returns the bytes', async () => {
    const r = await client.transform('gpt-image-2-image-to-image-pro', { ...INPUT, aspect_ratio: '4:5' }, { intervalMs: 5 });
    expect(r.task.status).toBe('success');
    expect(Buffer.from(r.data!).subarray(1, 4).toString()).toBe('PNG');
  });

  it('retries a 429 after its Retry-After (seconds) and creates exactly one task', async () => {
    hiapi.fault('POST /v1/tasks', { kind: 'status', status: 429, retryAfter: '1' });
    const t0 = Date.now();
    const { taskId } = await client.tasks.create('gpt-image-2-image-to-image', INPUT);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(taskId).toMatch(/^tk-hiapi-/);
    expect(creates()).toHaveLength(2);
    expect(creates()[0]!.headers['idempotency-key']).toBe(creates()[1]!.headers['idempotency-key']);
    expect(creates()[0]!.body).toBe(creates()[1]!.body);
    expect(hiapi.created()).toBe(1);
  });

  it('honours Retry-After given as an HTTP date on GET', async () => {
    const { taskId } = await client.tasks.create('gpt-image-2-image-to-image', INPUT);
    hiapi.fault('GET /v1/tasks/:id', { kind: 'status', status: 503, retryAfter: new Date(Date.now() + 1500).toUTCString() });
    const t0 = Date.now();
    const task = await client.tasks.get(taskId);
    expect(task.status).toBe('queued');
    // HTTP dates have whole seconds, so the wait is between 0.5 and 1.5 s
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  });

  it('gives up after maxRetries 503s with a typed error', async () => {
    const c = new Client({ baseUrl: hiapi.url, apiKey: hiapi.apiKey, maxRetries: 2, retryBaseMs: 10 });
    hiapi.fault('GET /v1/tasks', { kind: 'status', status: 503, retryAfter: '0' }, 3);
    const err = await c.tasks.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', errorCode: 'SERVICE_UNAVAILABLE', retryAfterMs: 0 });
    expect((err as ApiError).requestId).toMatch(/^req-/);
    expect(hiapi.requests.filter((r) => r.path === '/v1/tasks')).toHaveLength(3);
  });

  it('retries a create whose answer was lost, with the same key, and gets the original task back', async () => {
    hiapi.fault('POST /v1/tasks', { kind: 'drop', afterWork: true });
    const created = await client.tasks.create('gpt-image-2-image-to-image', INPUT);
    expect(hiapi.created()).toBe(1);
    expect(created.replayed).toBe(true);
    expect(creates()).toHaveLength(2);
    const task = await client.tasks.get(created.taskId);
    expect(task.taskId).toBe(created.taskId);
  });

  it('retries a 409 "still in progress" with the same key and body', async () => {
    hiapi.fault('POST /v1/tasks', { kind: 'status', status: 409, retryAfter: '0', errorCode: 'IDEMPOTENCY_KEY_PROCESSING' });
    const created = await client.tasks.create('gpt-image-2-image-to-image', INPUT, { idempotencyKey: 'in-flight-1' });
    expect(created.taskId).toMatch(/^tk-hiapi-/);
    expect(creates().map((r) => r.headers['idempotency-key'])).toEqual(['in-flight-1', 'in-flight-1']);
    expect(hiapi.created()).toBe(1);
  });

  it('replays an idempotent create and refuses the same key with another body', async () => {
    const a = await client.tasks.create('gpt-image-2-image-to-image', INPUT, { idempotencyKey: 'sku-1-concrete' });
    const b = await client.tasks.create('gpt-image-2-image-to-image', INPUT, { idempotencyKey: 'sku-1-concrete' });
    expect(b).toMatchObject({ taskId: a.taskId, replayed: true, idempotencyKey: 'sku-1-concrete' });
    expect(hiapi.created()).toBe(1);
    const err = await client.tasks
      .create('gpt-image-2-image-to-image', { ...INPUT, prompt: 'other' }, { idempotencyKey: 'sku-1-concrete' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_MISMATCH' });
  });

  it('does not retry a lost upload (no idempotency key exists for it)', async () => {
    hiapi.fault('POST /v1/uploads', { kind: 'drop', afterWork: true });
    const err = await client.uploads.create(Buffer.from('89504e470d0a1a0a', 'hex')).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0, code: 'NETWORK' });
    expect(hiapi.uploads()).toBe(1);
    expect(hiapi.requests.filter((r) => r.path === '/v1/uploads')).toHaveLength(1);
  });

  it('uploads a local file as multipart and returns its URL', async () => {
    const file = path.join(tmp, 'mug.png');
    await (await import('node:fs/promises')).writeFile(file, Buffer.from('89504e470d0a1a0a0000', 'hex'));
    const { url } = await client.uploads.create(file);
    expect(url).toMatch(/\/files\/upload-1-mug\.png$/);
    const req = hiapi.requests.find((r) => r.path === '/v1/uploads')!;
    expect(req.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.body).toContain('Content-Type: image/png');
  });

  it('turns a failed task into TaskFailedError carrying the task error', async () => {
    const { taskId } = await client.tasks.create('gpt-image-2-image-to-image', { ...INPUT, prompt: 'FAIL please' });
    const err = await client.tasks.wait(taskId, { intervalMs: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    const f = err as TaskFailedError;
    expect(f.code).toBe('TASK_FAILED');
    expect(f.taskError.message).toBe('input_urls[0]: download failed (HTTP 404)');
    expect(f.task.status).toBe('fail');
    expect(f.message).toContain(taskId);
  });

  it('keeps polling through unknown statuses and times out with TIMEOUT', async () => {
    hiapi.script('slow', ['paused', 'paused', 'success']);
    const { taskId } = await client.tasks.create('gpt-image-2-image-to-image', { ...INPUT, prompt: 'slow' });
    const seen: string[] = [];
    const task = await client.tasks.wait(taskId, { intervalMs: 5, onStatus: (t) => seen.push(t.status) });
    expect(seen).toEqual(['queued', 'paused', 'success']);
    expect(task.status).toBe('success');

    hiapi.script('stuck', Array(100).fill('handling'));
    const stuck = await client.tasks.create('gpt-image-2-image-to-image', { ...INPUT, prompt: 'stuck' });
    const err = await client.tasks.wait(stuck.taskId, { intervalMs: 20, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', status: 0 });
  });

  it('stops waiting when its signal aborts', async () => {
    hiapi.script('stuck', Array(100).fill('handling'));
    const { taskId } = await client.tasks.create('gpt-image-2-image-to-image', { ...INPUT, prompt: 'stuck' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user gave up')), 50);
    await expect(client.tasks.wait(taskId, { intervalMs: 10, signal: ac.signal })).rejects.toThrow('user gave up');
  });

  it('reports a request that gets no answer as TIMEOUT', async () => {
    const c = new Client({ baseUrl: hiapi.url, apiKey: hiapi.apiKey, timeoutMs: 200, maxRetries: 0 });
    hiapi.fault('GET /v1/tasks', { kind: 'hang' });
    await expect(c.tasks.list()).rejects.toMatchObject({ status: 0, code: 'TIMEOUT' });
  });

  it('maps statuses without error_code onto codes and keeps the request id', async () => {
    const bad = new Client({ baseUrl: hiapi.url, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(bad.tasks.list()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED', message: 'invalid api key' });
    await expect(client.tasks.get('tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR')).rejects.toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      requestId: expect.stringMatching(/^req-/),
    });
  });

  it('checks the cross-field rules before sending anything', async () => {
    const send = (model: string, input: Record<string, unknown>) => client.tasks.createRaw({ model, input }).catch((e: unknown) => e);
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['gpt-image-2-image-to-image', { ...INPUT, aspect_ratio: '1:1', resolution: '4K' }, /input\.resolution: resolution 4K is not allowed with aspect_ratio 1:1/],
      ['gpt-image-2-image-to-image', { prompt: 'x', input_urls: INPUT.input_urls, resolution: '2K' }, /auto is only allowed with resolution 1K/],
      ['gpt-image-2-image-to-image-pro', { ...INPUT, aspect_ratio: '2:1' }, /input\.aspect_ratio: must be one of/],
      ['gpt-image-2/image-to-image', { ...INPUT, aspect_ratio: '5:4', resolution: '2K' }, /2K is not available for aspect_ratio 5:4/],
      ['gpt-image-2', { prompt: 'x', input_urls: ['https://a/b.png'] }, /takes no references/],
      ['gpt-image-2-pro', { prompt: 'x', aspect_ratio: 'auto' }, /input\.aspect_ratio/],
    ];
    for (const [model, input, message] of cases) {
      const err = await send(model, input);
      expect(err, model).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 0, code: 'INVALID_REQUEST' });
      expect((err as Error).message).toMatch(message);
    }
    // Pro has no cross-field rules: auto at 2K is fine
    await expect(client.tasks.create('gpt-image-2-image-to-image-pro', { ...INPUT, aspect_ratio: 'auto', resolution: '2K' })).resolves.toBeTruthy();
    expect(creates()).toHaveLength(1);
  });

  it('lists tasks newest first', async () => {
    const a = await client.tasks.create('gpt-image-2-image-to-image', INPUT);
    const b = await client.tasks.create('gpt-image-2-image-to-image', INPUT);
    const page = await client.tasks.list({ page: 1, size: 1 });
    expect(page).toMatchObject({ page: 1, size: 1, total: 2 });
    expect(page.tasks.map((t) => t.taskId)).toEqual([b.taskId]);
    expect(hiapi.requests.at(-1)!.path).toBe('/v1/tasks?page=1&size=1');
    expect(a.taskId).not.toBe(b.taskId);
  });
});
