import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { ApiError, Client, TaskFailedError, priceFor } from '../../src/sdk/index.js';
import { renderPackshot } from '../fixtures/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let client: Client;
let tmp: string;
let productPng: Buffer;

beforeAll(async () => {
  server = await startTestServer();
  client = new Client({ baseUrl: server.url, apiKey: server.apiKey, retryBaseMs: 50 });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reshoot-sdk-real-'));
  productPng = (await renderPackshot({ product: 'mug', background: 'white', width: 400, height: 400 })).png;
});
afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

// The server loads the segmentation model on first use: generous timeouts.
describe('Client against the real reshoot server', { timeout: 180_000 }, () => {
  it('uploads a packshot, transforms it and downloads the image', async () => {
    const { url } = await client.uploads.create(productPng, { filename: 'mug.png' });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);

    const statuses: string[] = [];
    const out = path.join(tmp, 'mug-slate.png');
    const r = await client.transform(
      'gpt-image-2-image-to-image',
      { prompt: 'on dark slate, moody rim light', input_urls: [url], aspect_ratio: '4:3', resolution: '1K', seed: 7 },
      { out, intervalMs: 100, onStatus: (t) => statuses.push(t.status) },
    );
    expect(r.task.status).toBe('success');
    expect(r.task.taskId).toMatch(/^tk-hiapi-[0-9A-Z]{26}$/);
    expect(statuses.at(-1)).toBe('success');
    expect(r.download.path).toBe(out);
    const meta = await sharp(out).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 1024, height: 768 });

    const again = await client.tasks.get(r.task.taskId);
    expect(again).toMatchObject({ taskId: r.task.taskId, status: 'success', storage: 'temp' });
    const page = await client.tasks.list({ page: 1, size: 5 });
    expect(page.tasks[0]!.taskId).toBe(r.task.taskId);
  });

  it('replays an idempotent create on the real server', async () => {
    const { url } = await client.uploads.create(productPng);
    const input = { prompt: 'white studio sweep', input_urls: [url] };
    const a = await client.tasks.create('gpt-image-2-image-to-image', input, { idempotencyKey: 'real-replay-1' });
    const b = await client.tasks.create('gpt-image-2-image-to-image', input, { idempotencyKey: 'real-replay-1' });
    expect(b).toMatchObject({ taskId: a.taskId, replayed: true });
    await client.tasks.wait(a.taskId, { intervalMs: 100 });
  });

  it('reports a reference that cannot be decoded as a failed task', async () => {
    // uploads refuse a truncated image at once; a data: URI is only decoded when the task runs
    const corrupt = `data:image/png;base64,${productPng.subarray(0, 200).toString('base64')}`;
    const err = await client
      .transform('gpt-image-2-image-to-image', { prompt: 'on slate', input_urls: [corrupt] }, { intervalMs: 100 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).taskError.code).toBe('TASK_FAILED');
    expect((err as TaskFailedError).taskError.message).toMatch(/input_urls\[0\]/);
  });

  it('gets typed errors from the server: unknown task, unknown model, bad key', async () => {
    await expect(client.tasks.get('tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const unknownModel = await client.tasks.createRaw({ model: 'gpt-image-9', input: { prompt: 'x' } }).catch((e: unknown) => e);
    expect(unknownModel).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    expect((unknownModel as ApiError).message).toMatch(/^model: unknown model/);
    expect((unknownModel as ApiError).requestId).toBeTruthy();
    const notImage = await client.uploads.create(Buffer.from('hello, not an image')).catch((e: unknown) => e);
    expect(notImage).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    const bad = new Client({ baseUrl: `${server.url}/v1`, apiKey: 'sk-nope', maxRetries: 0 });
    await expect(bad.tasks.list()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('reads models and prices', async () => {
    const models = await client.models();
    expect(models.length).toBeGreaterThan(0);
    const rows = await client.pricing();
    expect(rows.length).toBeGreaterThan(0);
    expect(priceFor(rows, 'gpt-image-2-image-to-image-pro', { resolution: '1K' })).toBeTypeOf('number');
  });
});
