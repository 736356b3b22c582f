import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBlobStore } from '../../src/store/blobs/local-blobs.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { createSqliteStore } from '../../src/store/sqlite/store.js';
import { sqliteJobTable } from '../../src/queue/local/sqlite-queue.js';
import { createJanitor } from '../../src/tasks/janitor.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('janitor', () => {
  it('deletes output files once their links have expired and keeps the task', async () => {
    const api = apiClient(server);
    const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on paper', input_urls: [await productDataUri()] } });
    const { task } = await api.wait(created.body.data.taskId);
    const file = path.join(server.dataDir, 'blobs', 'tasks', task.taskId, '0.png');
    const matte = path.join(server.dataDir, 'blobs', 'tasks', task.taskId, 'matte-0.png');
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(matte)).toBe(true);
    // a layout left for the hiapi upstream (the worker removes it when the task ends; here that removal failed)
    const layout = path.join(server.dataDir, 'blobs', 'tasks', task.taskId, 'upstream-layout.png');
    fs.copyFileSync(matte, layout);

    const db = openDatabase(path.join(server.dataDir, 'reshoot.db'));
    const blobs = createLocalBlobStore(path.join(server.dataDir, 'blobs'));
    const logger = pino({ level: 'silent' });
    // Today nothing has expired.
    const today = createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800 });
    expect((await today.sweep()).outputs).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    // Eight days on, the link has run out: the file goes, the task row stays.
    const later = createJanitor({ store: createSqliteStore(db), queue: sqliteJobTable(db), blobs, logger, outputTtlSeconds: 604800, nowMs: () => Date.now() + 8 * 86400_000 });
    const swept = await later.sweep();
    expect(swept.outputs).toBeGreaterThanOrEqual(1);
    expect(swept.jobs).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(file)).toBe(false);
    // the matte kept beside it for the studio's Fix cutout goes with it
    expect(fs.existsSync(matte)).toBe(false);
    expect(fs.existsSync(layout)).toBe(false);
    db.close();
    expect((await api.get(`/v1/tasks/${task.taskId}`)).body.data.status).toBe('success');
  });

  it('keeps a turn\'s source while a task can build on it and deletes it after', async () => {
    const api = apiClient(server);
    const first = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on slate', input_urls: [await productDataUri()] } });
    const parent = (await api.wait(first.body.data.taskId)).task;
    const turn = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'warmer light', input_urls: [parent.output[0].url] } });
    expect((await api.wait(turn.body.data.taskId)).task.status).toBe('success');

    const db = openDatabase(path.join(server.dataDir, 'reshoot.db'));
    const sourcesOf = (id: string) => JSON.parse((db.prepare('SELECT sources FROM tasks WHERE id = ?').get(id) as { sources: string }).sources) as string[];
    const [source] = sourcesOf(parent.taskId);
    // stored under its content hash, whatever it came from, and shared by the turn
    expect(source).toMatch(/^sources\/[0-9a-f]{32}$/);
    expect(sourcesOf(turn.body.data.taskId)).toEqual([source]);
    const file = path.join(server.dataDir, 'blobs', source!);
    const orphan = path.join(server.dataDir, 'blobs', 'sources', '0123456789abcdef0123456789abcdef');
    fs.writeFileSync(orphan, 'nobody refers to this');

    const blobs = createLocalBlobStore(path.join(server.dataDir, 'blobs'));
    const logger = pino({ level: 'silent' });
    // An hour on: both tasks can still be built on, so their source stays; the orphan goes.
    const hourLater = createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800, nowMs: () => Date.now() + 2 * 3600_000 });
    expect((await hourLater.sweep()).sources).toBe(1);
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.existsSync(orphan)).toBe(false);
    // An orphan inside the grace period may be a run that has not recorded its sources yet: kept.
    fs.writeFileSync(orphan, 'just written');
    expect((await createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800 }).sweep()).sources).toBe(0);
    expect(fs.existsSync(orphan)).toBe(true);
    // Once every output built on it has expired, nothing can start a turn from it: it goes.
    const later = createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800, nowMs: () => Date.now() + 30 * 86400_000 });
    expect((await later.sweep()).sources).toBeGreaterThanOrEqual(2);
    expect(fs.existsSync(file)).toBe(false);
    db.close();
  });

  it('deletes upload files that have no row once they are older than the grace, and keeps real uploads', async () => {
    const form = new FormData();
    const png = Buffer.from((await productDataUri()).split(',')[1]!, 'base64');
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'product.png');
    const res = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: form });
    expect(res.status).toBe(200);
    const dir = path.join(server.dataDir, 'blobs', 'uploads');
    const [kept] = fs.readdirSync(dir);
    const orphan = path.join(dir, 'up-orphan.png');
    fs.writeFileSync(orphan, 'a file no upload row refers to');

    const db = openDatabase(path.join(server.dataDir, 'reshoot.db'));
    const blobs = createLocalBlobStore(path.join(server.dataDir, 'blobs'));
    const logger = pino({ level: 'silent' });
    // Within the grace it may be an upload whose row is being written: kept.
    expect((await createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800 }).sweep()).uploads).toBe(0);
    expect(fs.existsSync(orphan)).toBe(true);
    // Two hours on, the orphan goes; the real upload (its link still valid) stays.
    const later = createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800, nowMs: () => Date.now() + 2 * 3600_000 });
    expect((await later.sweep()).uploads).toBe(1);
    expect(fs.existsSync(orphan)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([kept]);
    db.close();
  });
});
