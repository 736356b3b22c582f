import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The server on RESHOOT_DATABASE_URL: tasks, keys and the job queue in a real Postgres (a throwaway
// cluster), the files on local disk. Two servers on one database answer for each other's tasks.
describe.skipIf(postgresUnavailable !== null)('the API on Postgres', () => {
  let cluster: TestPostgres;
  let url: string;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase();
    const env = { RESHOOT_DATABASE_URL: url, RESHOOT_API_KEYS: 'sk-test-pg-owner' };
    a = await startTestServer(env);
    // the second node: API only, its own data dir, the same database (and so the same link secret)
    b = await startTestServer({ ...env, RESHOOT_ROLE: 'api' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await cluster?.stop();
  });

  it('create → poll → success → download, with the task, its job and its key rows in Postgres', async () => {
    const api = apiClient(a);
    const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on a dark slate surface', input_urls: [await productDataUri()], aspect_ratio: '1:1' } });
    expect(created.status).toBe(200);
    const id = created.body.data.taskId as string;
    const { task, seen } = await api.wait(id);
    expect(task.status).toBe('success');
    const order = ['queued', 'handling', 'archiving', 'success'];
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort((x, y) => x - y));
    const file = await fetch(task.output[0].url);
    expect(file.status).toBe(200);
    const meta = await sharp(Buffer.from(await file.arrayBuffer())).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(meta.height);

    // what the database holds: the finished task, its job done, the env key's row, the link secret
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const row = (await c.query(`SELECT status, outputs, key_id, sources FROM tasks WHERE id = $1`, [id])).rows[0];
      expect(row.status).toBe('success');
      expect(JSON.parse(row.outputs)[0].key).toBe(`tasks/${id}/0.png`);
      expect(JSON.parse(row.sources)).toHaveLength(1);
      expect((await c.query(`SELECT state FROM jobs WHERE payload::jsonb->>'taskId' = $1`, [id])).rows.map((r) => r.state)).toEqual(['done']);
      expect((await c.query(`SELECT source FROM api_keys WHERE id = $1`, [row.key_id])).rows[0]?.source).toBe('env');
      expect((await c.query(`SELECT count(*)::int AS n FROM settings WHERE name = 'url_signing_secret'`)).rows[0].n).toBe(1);
      expect((await c.query(`SELECT max(version) AS v FROM reshoot_migrations`)).rows[0].v).toBeGreaterThanOrEqual(1);
    } finally {
      await c.end();
    }

    // the other node answers the same task with the same signed link
    const other = (await apiClient(b).get(`/v1/tasks/${id}`)).body.data;
    expect(other.status).toBe('success');
    expect(other.output[0].url.replace(b.url, '')).toBe(task.output[0].url.replace(a.url, ''));
  });

  it('an idempotent create replayed on the other node returns the same task; another body is refused', async () => {
    const body = { model: MODEL, input: { prompt: 'on white', input_urls: [await productDataUri()] } };
    const first = await apiClient(a).post('/v1/tasks', body, { 'idempotency-key': 'pg-replay-1' });
    expect(first.status).toBe(200);
    const again = await apiClient(b).post('/v1/tasks', body, { 'idempotency-key': 'pg-replay-1' });
    expect(again.status).toBe(200);
    expect(again.body.data.taskId).toBe(first.body.data.taskId);
    expect(again.headers.get('idempotent-replay')).toBe('true');
    const changed = await apiClient(b).post('/v1/tasks', { ...body, input: { ...body.input, prompt: 'on black' } }, { 'idempotency-key': 'pg-replay-1' });
    expect(changed.status).toBe(422);
    expect(changed.body.error_code).toBe('IDEMPOTENCY_KEY_MISMATCH');
    expect((await apiClient(a).wait(first.body.data.taskId as string)).task.status).toBe('success');
  });

  it('/readyz checks the database', async () => {
    const res = await fetch(`${b.url}/readyz`);
    expect(res.status).toBe(200);
  });
});
