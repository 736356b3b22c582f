import Database from 'better-sqlite3';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../fixtures/index.js';
import { apiClient, MODEL, PRODUCT, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { REAL_MODEL } from '../helpers/tiny-model.js';

// The task lifecycle against the real server and worker (contract §3-6, §8, D7-D9, D11, D14).
let server: TestServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // the real segmentation weights: the lifecycle and transparent tests below are the studio and the
  // transparent path's end-to-end renders on them (the file's other renders reuse the product's cached matte)
  server = await startTestServer({ ...REAL_MODEL, RESHOOT_API_KEYS: 'sk-test-owner,sk-test-other' });
  api = apiClient(server);
});
afterAll(() => server.close());

async function createTask(over: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const body = { model: MODEL, input: { prompt: 'on a dark slate surface, dramatic side light', input_urls: [await productDataUri()], aspect_ratio: '4:3', ...over } };
  return api.post('/v1/tasks', body, headers);
}

describe('task lifecycle', () => {
  // real model: the studio path end to end
  it('runs queued → handling → archiving → success and shows the documented fields only', async () => {
    const created = await createTask();
    expect(created.status).toBe(200);
    const id = created.body.data.taskId as string;
    const first = (await api.get(`/v1/tasks/${id}`)).body;
    expect(Object.keys(first).sort()).toEqual(['code', 'data', 'message']);
    expect(first.data.completed).toBe(0);
    expect(first.data.output).toBeUndefined();
    expect(first.data.error).toBeUndefined();

    const { task, seen } = await api.wait(id);
    expect(task.status).toBe('success');
    // Polling may miss short states, but never sees them out of order.
    const order = ['queued', 'handling', 'archiving', 'success'];
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort((a, b) => a - b));
    expect(Object.keys(task).sort()).toEqual(['completed', 'created', 'model', 'output', 'reshoot', 'status', 'storage', 'taskId']);
    expect(task).toMatchObject({ taskId: id, model: MODEL, storage: 'temp' });
    expect(Number.isInteger(task.created) && Number.isInteger(task.completed)).toBe(true);
    expect(task.completed).toBeGreaterThanOrEqual(task.created);
    expect(task.output).toHaveLength(1);
    expect(Object.keys(task.output[0]).sort()).toEqual(['expireAt', 'type', 'url']);
    expect(task.output[0].type).toBe('image');
    expect(task.output[0].expireAt).toBe(task.completed + 604800);
    expect(task.output[0].url).toContain(`/files/tasks/${id}/0.png`);
    expect(task.reshoot.engine).toEqual(expect.any(String));
    expect(task.reshoot.placement).toMatchObject({ width: expect.any(Number), height: expect.any(Number) });
    expect(task.reshoot.timings.total).toBeGreaterThan(0);
    expect(task.reshoot.cost).toEqual({ usd: 0, model: MODEL });
    expect(task.input).toBeUndefined();

    // The output downloads without an auth header and is the requested 4:3 at 1K.
    const file = await fetch(task.output[0].url);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await file.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([1024, 768]);

    // The database saw archiving before success (D7): the transition is recorded in the reshoot timings.
    expect(task.reshoot.timings.store).toBeGreaterThanOrEqual(0);
  });

  it('shows archiving from the start of encoding until the output is saved (D7)', async () => {
    const id = (await createTask({ aspect_ratio: '16:9', resolution: '4K' })).body.data.taskId;
    // Poll closely and note when archiving was first and success was first seen.
    let archivingAt = 0;
    let doneAt = 0;
    let task: any;
    for (const until = Date.now() + 150_000; Date.now() < until; ) {
      task = (await api.get(`/v1/tasks/${id}`)).body.data;
      if (task.status === 'archiving' && !archivingAt) archivingAt = performance.now();
      if (task.status === 'success' || task.status === 'fail') {
        doneAt = performance.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(archivingAt).toBeGreaterThan(0);
    // Encoding a 3840×2160 PNG takes hundreds of milliseconds, and archiving covers it: the status
    // stayed archiving for at least most of the encode (saving alone is a few tens of milliseconds).
    const { encode } = task.reshoot.timings;
    expect(encode).toBeGreaterThan(100);
    expect(doneAt - archivingAt).toBeGreaterThan(encode * 0.6);
  });

  // real model: the transparent path end to end
  it('renders a transparent PNG whose alpha is the product\'s true shape, framed, with nothing around it', async () => {
    const { task } = await api.wait((await createTask({ aspect_ratio: '1:1', background: 'transparent' })).body.data.taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    const file = await fetch(task.output[0].url);
    expect(file.headers.get('content-type')).toBe('image/png');
    const { data, info } = await sharp(Buffer.from(await file.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([1024, 1024, 4]);
    // the fixture's exact alpha, its box stretched over the placement, against the output's alpha
    const truth = await renderPackshot(PRODUCT);
    const box = { x0: truth.width, y0: truth.height, x1: 0, y1: 0 };
    for (let i = 0; i < truth.alpha.length; i++) {
      if (truth.alpha[i]! <= 8) continue;
      const x = i % truth.width, y = Math.floor(i / truth.width);
      box.x0 = Math.min(box.x0, x); box.x1 = Math.max(box.x1, x + 1); box.y0 = Math.min(box.y0, y); box.y1 = Math.max(box.y1, y + 1);
    }
    const p = task.reshoot.placement;
    let both = 0, either = 0, around = 0;
    for (let y = 0; y < info.height; y++) {
      for (let x = 0; x < info.width; x++) {
        const a = data[(y * info.width + x) * 4 + 3]!;
        if (x < p.x || x >= p.x + p.width || y < p.y || y >= p.y + p.height) {
          if (a > 8) around++;
          continue;
        }
        const sx = Math.floor(box.x0 + ((x - p.x + 0.5) / p.width) * (box.x1 - box.x0)), sy = Math.floor(box.y0 + ((y - p.y + 0.5) / p.height) * (box.y1 - box.y0));
        const mine = a > 127, truly = truth.alpha[sy * truth.width + sx]! > 127;
        if (mine && truly) both++;
        if (mine || truly) either++;
      }
    }
    expect(around).toBe(0);
    // 0.98 on the real weights; a matte that keeps some floor shadow or misses the handle's hole falls short
    expect(both / either).toBeGreaterThan(0.96);
  });

  it('hides another key\'s task (404) and lists only the caller\'s tasks, newest first', async () => {
    const other = apiClient(server, 'sk-test-other');
    const mine = await createTask();
    const id = mine.body.data.taskId;
    const peek = await other.get(`/v1/tasks/${id}`);
    expect(peek.status).toBe(404);
    expect(peek.body).toMatchObject({ code: 404, data: null, error_code: 'NOT_FOUND' });
    const theirs = await other.get('/v1/tasks');
    expect(theirs.body.data.tasks.map((t: { taskId: string }) => t.taskId)).not.toContain(id);

    const list = await api.get('/v1/tasks?page=1&size=2');
    expect(list.status).toBe(200);
    expect(Object.keys(list.body.data).sort()).toEqual(['page', 'size', 'tasks', 'total']);
    expect(list.body.data.page).toBe(1);
    expect(list.body.data.size).toBe(2);
    expect(list.body.data.total).toBeGreaterThanOrEqual(2);
    expect(list.body.data.tasks[0].taskId).toBe(id);
    const created = list.body.data.tasks.map((t: { created: number }) => t.created);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    for (const t of list.body.data.tasks) expect(t.input).toBeUndefined();
    await api.wait(id);
  });

  it('normalises paging to the defaults instead of clamping (D9)', async () => {
    for (const q of ['page=0&size=0', 'page=-1&size=101', 'page=abc&size=1.5', '']) {
      const r = await api.get(`/v1/tasks?${q}`);
      expect(r.status).toBe(200);
      expect([r.body.data.page, r.body.data.size]).toEqual([1, 10]);
    }
    const past = await api.get('/v1/tasks?page=999&size=5');
    expect(past.body.data.tasks).toEqual([]);
    expect(past.body.data.total).toBeGreaterThan(0);
  });

  it('fails a task whose reference is not an image, with the position in the message', async () => {
    const created = await createTask({ input_urls: [await productDataUri(), 'data:image/png;base64,aGVsbG8gd29ybGQ='] });
    const { task } = await api.wait(created.body.data.taskId);
    expect(task.status).toBe('fail');
    expect(Object.keys(task).sort()).toEqual(['completed', 'created', 'error', 'model', 'reshoot', 'status', 'storage', 'taskId']);
    expect(task.error.code).toBe('TASK_FAILED');
    expect(task.error.message).toMatch(/^input_urls\[1\]: /);
    expect(task.completed).toBeGreaterThan(0);
    expect(task.reshoot.cost.usd).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('replays the same taskId with Idempotent-Replay: true and creates nothing new', async () => {
    const body = { model: MODEL, input: { prompt: 'on marble', input_urls: [await productDataUri()] } };
    const a = await api.post('/v1/tasks', body, { 'idempotency-key': 'replay-1' });
    const before = (await api.get('/v1/tasks')).body.data.total;
    const b = await api.post('/v1/tasks', body, { 'idempotency-key': 'replay-1' });
    expect(a.status).toBe(200);
    expect(a.headers.get('idempotent-replay')).toBeNull();
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replay')).toBe('true');
    expect(b.body).toEqual(a.body);
    expect((await api.get('/v1/tasks')).body.data.total).toBe(before);
  });

  it('422 for the same key with a different body (compared byte for byte)', async () => {
    const body = { model: MODEL, input: { prompt: 'on marble', input_urls: ['https://example.com/a.jpg'] } };
    expect((await api.post('/v1/tasks', body, { 'idempotency-key': 'mismatch-1' })).status).toBe(200);
    // Same JSON value, different bytes: a mismatch, as the contract says.
    const spaced = JSON.stringify(body, null, 2);
    const r = await api.post('/v1/tasks', spaced, { 'idempotency-key': 'mismatch-1' });
    expect(r.status).toBe(422);
    expect(r.body).toEqual({ code: 422, message: 'Idempotency-Key was already used with a different request body', data: null, error_code: 'IDEMPOTENCY_KEY_MISMATCH' });
  });

  it('two concurrent creates with one key make exactly one task', async () => {
    const body = { model: MODEL, input: { prompt: 'race', input_urls: ['https://example.com/a.jpg'] } };
    const before = (await api.get('/v1/tasks')).body.data.total;
    const results = await Promise.all(Array.from({ length: 8 }, () => api.post('/v1/tasks', body, { 'idempotency-key': 'race-1' })));
    const ids = new Set(results.filter((r) => r.status === 200).map((r) => r.body.data.taskId));
    expect(ids.size).toBe(1);
    for (const r of results) expect([200, 409]).toContain(r.status);
    expect(results.filter((r) => r.status === 200 && r.headers.get('idempotent-replay') !== 'true')).toHaveLength(1);
    expect((await api.get('/v1/tasks')).body.data.total).toBe(before + 1);
  });

  it('409 with Retry-After while another process holds the key', async () => {
    // Another API process sharing the database has claimed the key and not finished yet.
    const db = new Database(path.join(server.dataDir, 'reshoot.db'));
    const keyId = (db.prepare(`SELECT id FROM api_keys WHERE prefix = 'sk-test' ORDER BY id`).all() as Array<{ id: string }>).map((r) => r.id);
    const body = JSON.stringify({ model: MODEL, input: { prompt: 'in flight', input_urls: ['https://example.com/a.jpg'] } });
    const { createHash } = await import('node:crypto');
    for (const id of keyId) {
      db.prepare(`INSERT INTO idempotency (key_id, idem_key, body_hash, task_id, created_ms) VALUES (?, 'busy-1', ?, NULL, ?)`).run(
        id,
        createHash('sha256').update(body).digest('hex'),
        Date.now(),
      );
    }
    db.close();
    const r = await api.post('/v1/tasks', body, { 'idempotency-key': 'busy-1' });
    expect(r.status).toBe(409);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(r.body).toEqual({ code: 409, message: 'a request with this Idempotency-Key is still in progress', data: null, error_code: 'IDEMPOTENCY_KEY_PROCESSING' });
  });

  it('scopes keys per API key, and a rejected request does not use the key up', async () => {
    const body = { model: MODEL, input: { prompt: 'scoped', input_urls: ['https://example.com/a.jpg'] } };
    const a = await api.post('/v1/tasks', body, { 'idempotency-key': 'scope-1' });
    const b = await apiClient(server, 'sk-test-other').post('/v1/tasks', body, { 'idempotency-key': 'scope-1' });
    expect(b.status).toBe(200);
    expect(b.headers.get('idempotent-replay')).toBeNull();
    expect(b.body.data.taskId).not.toBe(a.body.data.taskId);

    const bad = await api.post('/v1/tasks', { model: MODEL, input: { prompt: '' , input_urls: [] } }, { 'idempotency-key': 'scope-2' });
    expect(bad.status).toBe(400);
    const good = await api.post('/v1/tasks', body, { 'idempotency-key': 'scope-2' });
    expect(good.status).toBe(200);
    expect(good.headers.get('idempotent-replay')).toBeNull();
  });
});
