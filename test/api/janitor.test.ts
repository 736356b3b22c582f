import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalBlobStore } from '../../src/store/blobs/local-blobs.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
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
    expect(fs.existsSync(file)).toBe(true);

    const db = openDatabase(path.join(server.dataDir, 'reshoot.db'));
    const blobs = createLocalBlobStore(path.join(server.dataDir, 'blobs'));
    const logger = pino({ level: 'silent' });
    // Today nothing has expired.
    const today = createJanitor({ db, blobs, logger, outputTtlSeconds: 604800 });
    expect((await today.sweep()).outputs).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
    // Eight days on, the link has run out: the file goes, the task row stays.
    const later = createJanitor({ db, blobs, logger, outputTtlSeconds: 604800, nowMs: () => Date.now() + 8 * 86400_000 });
    const swept = await later.sweep();
    expect(swept.outputs).toBeGreaterThanOrEqual(1);
    expect(swept.jobs).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(file)).toBe(false);
    db.close();
    expect((await api.get(`/v1/tasks/${task.taskId}`)).body.data.status).toBe('success');
  });
});
