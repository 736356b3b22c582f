import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, MODEL, PRO, productDataUri } from '../helpers/api.js';
import { startTestServer } from '../helpers/server.js';

const run = promisify(execFile);
const CLI = path.resolve(__dirname, '../../src/cli/main-dev.ts');
const reshoot = (dataDir: string, ...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, RESHOOT_DATA_DIR: dataDir, RESHOOT_API_KEYS: '' } });

let dataDir: string;
beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-keys-'));
});
afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

describe('keys', () => {
  it('first start prints a key once and says how to make more; keys create/list/revoke manage them', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent'], {
      env: { ...process.env, RESHOOT_API_KEYS: '' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 1200 && !out.includes('keys revoke'); i++) await new Promise((r) => setTimeout(r, 50));
    const url = /listening on (\S+)/.exec(out)![1]!;
    const firstKey = /^\s+(sk-\S+)$/m.exec(out)![1]!;
    expect(out).toContain('reshoot keys create --name NAME [--webhook-secret S]');
    expect(out).toContain('reshoot keys list');
    const first = apiClient({ url, apiKey: firstKey });
    expect((await first.get('/v1/tasks')).status).toBe(200);

    const created = await reshoot(dataDir, 'keys', 'create', '--name', 'ci-bot', '--json');
    const made = JSON.parse(created.stdout);
    expect(made.key).toMatch(/^sk-/);
    expect((await apiClient({ url, apiKey: made.key }).get('/v1/tasks')).status).toBe(200);

    const listed = await reshoot(dataDir, 'keys', 'list');
    expect(listed.stdout).toContain('ci-bot');
    expect(listed.stdout).toContain('default');
    expect(listed.stdout).not.toContain(made.key); // only hashes are kept
    const db = await fs.readFile(path.join(dataDir, 'reshoot.db'));
    expect(db.includes(Buffer.from(made.key))).toBe(false);

    // A key revoked by the command is refused by the running server. The server caches a lookup for
    // 5 s (src/tasks/keys.test.ts moves a clock across that), so this is a key it has not looked up yet.
    const spare = JSON.parse((await reshoot(dataDir, 'keys', 'create', '--name', 'spare', '--json')).stdout);
    await reshoot(dataDir, 'keys', 'revoke', spare.id);
    expect((await apiClient({ url, apiKey: spare.key }).get('/v1/tasks')).status).toBe(401);

    // A second start with keys present prints none.
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const again = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent']);
    let out2 = '';
    again.stdout.on('data', (d: Buffer) => (out2 += d.toString()));
    for (let i = 0; i < 1200 && !out2.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(out2).not.toMatch(/sk-/);
    again.kill('SIGTERM');
    await new Promise((r) => again.once('exit', r));
  });

  it('a bad setting stops serve with a clear message and exit code 2', async () => {
    const err = await reshoot(dataDir, 'serve', '--port', 'eighty', '--rate-limit', 'lots').catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/RESHOOT_PORT="eighty"/);
    expect((err as { stderr: string }).stderr).toMatch(/RESHOOT_RATE_LIMIT="lots"/);
  });
});

describe('usage, cost and budgets', () => {
  it('records cost per task, charges no failure, reports by model and day, and refuses over budget with 402', async () => {
    const server = await startTestServer();
    try {
      const { key } = await server.reshoot.keys.create('budgeted', { budgetUsd: 1 });
      const api = apiClient(server, key);
      const good = { prompt: 'on marble', input_urls: [await productDataUri()] };
      const bad = { prompt: 'on marble', input_urls: ['data:image/png;base64,bm9wZQ=='] };
      const ids = [];
      for (const input of [good, bad]) ids.push((await api.post('/v1/tasks', { model: PRO, input })).body.data.taskId);
      ids.push((await api.post('/v1/tasks', { model: MODEL, input: good })).body.data.taskId);
      const tasks = await Promise.all(ids.map((id) => api.wait(id).then((w) => w.task)));
      expect(tasks.map((t) => t.status)).toEqual(['success', 'fail', 'success']);
      expect(tasks.map((t) => t.reshoot.cost.usd)).toEqual([0.4, 0, 0]);

      const usage = (await api.get('/v1/usage')).body.data;
      expect(usage.total).toEqual({ tasks: 3, usd: 0.4 });
      const pro = usage.days.find((d: { model: string }) => d.model === PRO);
      expect(pro).toMatchObject({ tasks: 2, succeeded: 1, failed: 1, usd: 0.4, day: new Date().toISOString().slice(0, 10) });

      // $0.40 spent of $1: one more pro task fits, the next would pass the budget.
      expect((await api.post('/v1/tasks', { model: PRO, input: good })).status).toBe(200);
      const before = (await api.get('/v1/tasks')).body.data.total;
      const refused = await api.post('/v1/tasks', { model: PRO, input: good });
      expect(refused.status).toBe(402);
      expect(refused.body).toMatchObject({ code: 402, data: null, error_code: 'INSUFFICIENT_BALANCE' });
      expect((await api.get('/v1/tasks')).body.data.total).toBe(before);
      // Free tasks still go through.
      expect((await api.post('/v1/tasks', { model: MODEL, input: good })).status).toBe(200);
      expect((await api.get('/v1/usage?from=2020-01-01&to=2020-01-02')).body.data.total).toEqual({ tasks: 0, usd: 0 });
      expect((await api.get('/v1/usage?from=yesterday')).status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
