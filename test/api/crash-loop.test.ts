import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer } from '../helpers/server.js';

describe('a task that keeps killing its worker', () => {
  it('fails with a reason once its attempts are used up, instead of looping', async () => {
    const api = await startTestServer({ RESHOOT_ROLE: 'api', RESHOOT_JOB_MAX_ATTEMPTS: '3' });
    const client = apiClient(api);
    const created = await client.post('/v1/tasks', { model: MODEL, input: { prompt: 'on slate', input_urls: [await productDataUri()] } });
    const id = created.body.data.taskId;
    // What three crashed runs leave behind: attempts used up, the last lease lapsed.
    const db = new Database(path.join(api.dataDir, 'reshoot.db'));
    db.prepare(`UPDATE jobs SET state = 'active', attempts = 3, lease_owner = 'gone', lease_until_ms = ? WHERE payload LIKE ?`).run(Date.now() - 1, `%${id}%`);
    db.prepare(`UPDATE tasks SET status = 'handling' WHERE id = ?`).run(id);
    db.close();
    const worker = await startTestServer({ RESHOOT_ROLE: 'worker', RESHOOT_DATA_DIR: api.dataDir, RESHOOT_JOB_MAX_ATTEMPTS: '3' });
    try {
      const { task } = await client.wait(id);
      expect(task.status).toBe('fail');
      expect(task.error).toEqual({ code: 'TASK_FAILED', message: 'the worker stopped 3 times while rendering this task' });
    } finally {
      await worker.close();
      await api.close();
    }
  });
});
