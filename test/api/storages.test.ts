import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBlobStore } from '../../src/store/blobs/local-blobs.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { createSqliteStore } from '../../src/store/sqlite/store.js';
import { createJanitor } from '../../src/tasks/janitor.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// storage: persistent and hiapi's /v1/storages endpoints (list, promote, delete), per key.
const FOREVER = 4_102_444_800;

let server: TestServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  server = await startTestServer();
  api = apiClient(server);
});
afterAll(() => server.close());

async function render(extra: Record<string, unknown> = {}) {
  const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on slate', input_urls: [await productDataUri()] }, ...extra });
  expect(created.status).toBe(200);
  const { task } = await api.wait(created.body.data.taskId);
  expect(task.status).toBe('success');
  return task;
}

const listed = async () => (await api.get('/v1/storages?size=100')).body.data;

describe('/v1/storages', () => {
  it('keeps an output created with storage: persistent, and lists it with its tier and size', async () => {
    const task = await render({ storage: 'persistent' });
    expect(task.storage).toBe('persistent');
    expect(task.output[0].expireAt).toBe(FOREVER);
    const item = (await listed()).items.find((i: { task_id: string }) => i.task_id === task.taskId);
    expect(item).toMatchObject({ id: `${task.taskId}.0`, storage_tier: 'persistent', type: 'image', expireAt: FOREVER });
    expect(item.bytes).toBeGreaterThan(1000);
    expect((await fetch(item.url)).status).toBe(200);
  });

  it('promotes a temp output: same path, kept past its old expiry by the sweep', async () => {
    const task = await render();
    expect(task.storage).toBe('temp');
    const id = `${task.taskId}.0`;
    const promoted = await api.post('/v1/storages/promote', [id, 'tk-hiapi-01M1NB9DKKZRNHA8YSTEMMM3CW.0', 'nonsense']);
    expect(promoted.status).toBe(200);
    expect(promoted.body.data).toEqual({
      accepted: [id],
      rejected: [
        { id: 'tk-hiapi-01M1NB9DKKZRNHA8YSTEMMM3CW.0', reason: 'not_owned' },
        { id: 'nonsense', reason: 'not_owned' },
      ],
    });
    const again = await api.post('/v1/storages/promote', [id]);
    expect(again.body.data.rejected).toEqual([{ id, reason: 'not_promotable' }]);

    const after = (await api.get(`/v1/tasks/${task.taskId}`)).body.data;
    expect(after.storage).toBe('persistent');
    expect(after.output[0].expireAt).toBe(FOREVER);
    expect(new URL(after.output[0].url).pathname).toBe(new URL(task.output[0].url).pathname);

    // A year on, the sweep deletes expired temp outputs but not this one.
    const db = openDatabase(path.join(server.dataDir, 'reshoot.db'));
    const janitor = createJanitor({ store: createSqliteStore(db), blobs: createLocalBlobStore(path.join(server.dataDir, 'blobs')), logger: pino({ level: 'silent' }), outputTtlSeconds: 604800, nowMs: () => Date.now() + 365 * 86400_000 });
    await janitor.sweep();
    db.close();
    expect(fs.existsSync(path.join(server.dataDir, 'blobs', 'tasks', task.taskId, '0.png'))).toBe(true);
    expect((await fetch(after.output[0].url)).status).toBe(200);
  });

  it('deletes outputs at once: the link answers 404, the list drops it, a second delete says so', async () => {
    const task = await render();
    const id = `${task.taskId}.0`;
    const del = await api.post('/v1/storages/delete', [id]);
    expect(del.body.data).toEqual({ accepted: [id], rejected: [] });
    expect((await fetch(task.output[0].url)).status).toBe(404);
    // its link reads as ended, so the sweep retires the task like an expired one
    expect((await api.get(`/v1/tasks/${task.taskId}`)).body.data.output[0].expireAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect((await listed()).items.map((i: { id: string }) => i.id)).not.toContain(id);
    expect((await api.post('/v1/storages/delete', [id])).body.data.rejected).toEqual([{ id, reason: 'already_deleted' }]);
    expect((await api.post('/v1/storages/promote', [id])).body.data.rejected).toEqual([{ id, reason: 'already_deleted' }]);
  });

  it('pages newest first with a real total, and keeps keys apart', async () => {
    const all = await listed();
    expect(all.total).toBe(all.items.length);
    const first = (await api.get('/v1/storages?page=1&size=1')).body.data;
    expect(first).toMatchObject({ page: 1, size: 1, total: all.total });
    expect(first.items[0].id).toBe(all.items[0].id);
    const other = (await server.reshoot.keys.create('other')).key;
    const theirs = apiClient(server, other);
    expect((await theirs.get('/v1/storages')).body.data).toMatchObject({ total: 0, items: [] });
    expect((await theirs.post('/v1/storages/promote', [all.items[0].id])).body.data.rejected).toEqual([{ id: all.items[0].id, reason: 'not_owned' }]);
  });

  it('refuses a key with no budget left as a whole batch, and bodies that are not a list of ids', async () => {
    const broke = apiClient(server, (await server.reshoot.keys.create('broke', { budgetUsd: 0 })).key);
    expect((await broke.post('/v1/storages/promote', ['a.0', 'b.0'])).body.data).toEqual({
      accepted: [],
      rejected: [{ id: 'a.0', reason: 'insufficient' }, { id: 'b.0', reason: 'insufficient' }],
    });
    for (const body of [{ ids: ['a'] }, [], [1], Array.from({ length: 51 }, (_, i) => `x.${i}`)]) {
      const r = await api.post('/v1/storages/promote', body);
      expect(r.status).toBe(400);
      expect(r.body.error_code).toBe('INVALID_REQUEST');
    }
    expect((await fetch(`${server.url}/v1/storages`)).status).toBe(401);
  });
});

describe('the persistent cap', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ RESHOOT_PERSISTENT_CAP_GB: '0.000001' }); // about 1 KB
  });
  afterAll(() => small.close());

  it('refuses promotions past the cap, and storage: persistent falls back to temp once it is full', async () => {
    const sapi = apiClient(small);
    const make = async (extra: Record<string, unknown> = {}) => {
      const c = await sapi.post('/v1/tasks', { model: MODEL, input: { prompt: 'on slate', input_urls: [await productDataUri()] }, ...extra });
      return (await sapi.wait(c.body.data.taskId)).task;
    };
    const first = await make({ storage: 'persistent' }); // room left at create: kept
    expect(first.storage).toBe('persistent');
    const second = await make({ storage: 'persistent' }); // the cap is now used up
    expect(second.storage).toBe('temp');
    expect((await sapi.post('/v1/storages/promote', [`${second.taskId}.0`])).body.data.rejected).toEqual([{ id: `${second.taskId}.0`, reason: 'cap_exceeded' }]);
  });
});
