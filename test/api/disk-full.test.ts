import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The data dir on a small tmpfs that fills up while the server runs: creates are refused cleanly
 * (503 with Retry-After, nothing created), the event loop keeps answering, the process stays up, and
 * when space returns every accepted task finishes and the database checks out. Mounting needs root;
 * elsewhere the test is skipped with the reason printed.
 */
const mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-full-'));
const why = mountTmpfs(mountDir, 48);
if (why) console.warn(`disk-full test skipped: ${why}`);

function mountTmpfs(dir: string, mb: number): string | null {
  if (process.getuid?.() !== 0) return 'not running as root (a tmpfs cannot be mounted)';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Writes until the filesystem refuses with ENOSPC; returns the filler's path. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(256 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  // the last few bytes too, so no page is left
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(512, 1));
  } catch {
    /* full */
  }
  fs.closeSync(fd);
  return file;
}

describe.skipIf(why !== null)('a full data disk', () => {
  let server: TestServer;
  const dataDir = path.join(mountDir, 'data');

  beforeAll(async () => {
    server = await startTestServer({ RESHOOT_DATA_DIR: dataDir, RESHOOT_JOB_MAX_ATTEMPTS: '10', RESHOOT_MIN_FREE_MB: '8' });
  });
  afterAll(async () => {
    await server?.close();
    if (why === null) {
      // lazily if something still holds a file there: the mount never outlives the test
      try {
        execFileSync('umount', [mountDir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', mountDir], { stdio: 'pipe' });
      }
    }
    fs.rmSync(mountDir, { recursive: true, force: true });
  });

  it('refuses creates with 503 and Retry-After, keeps answering, and resumes when space returns', async () => {
    const api = apiClient(server);
    const body = { model: MODEL, input: { prompt: 'on slate', input_urls: [await productDataUri()] } };
    const before = await api.post('/v1/tasks', body);
    expect(before.status).toBe(200);
    expect((await api.wait(before.body.data.taskId)).task.status).toBe('success');

    // Tasks already queued when the disk fills: their renders and the queue's own writes fail for a while.
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) queued.push((await api.post('/v1/tasks', body)).body.data.taskId);
    const filler = fill(mountDir);
    await new Promise((r) => setTimeout(r, 1100)); // the free-space reading is at most a second old
    const refused: Array<{ status: number; code: string; retryAfter: string | null }> = [];
    const health: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await api.post('/v1/tasks', body);
      refused.push({ status: r.status, code: r.body.error_code, retryAfter: r.headers.get('retry-after') });
      const t = performance.now();
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      health.push(performance.now() - t);
    }
    // Under the free-space floor every create is refused before it writes, with the documented answer.
    for (const r of refused) expect(r).toEqual({ status: 503, code: 'STORAGE_UNAVAILABLE', retryAfter: '30' });
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(Buffer.from((await productDataUri()).split(',')[1]!, 'base64'))], { type: 'image/png' }), 'p.png');
    const upload = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: form });
    expect(upload.status).toBe(503);
    expect((await upload.json()).error_code).toBe('STORAGE_UNAVAILABLE');
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).message).toMatch(/MB free, under the 8 MB floor/);
    // the event loop was never held: health answered quickly throughout
    expect(Math.max(...health)).toBeLessThan(1000);

    fs.rmSync(filler);
    for (const id of queued) expect((await api.wait(id, 240_000)).task.status).toBe('success');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const after = await api.post('/v1/tasks', body);
    expect(after.status).toBe(200);
    expect((await api.wait(after.body.data.taskId)).task.status).toBe('success');
    const listed = await api.get('/v1/tasks?size=100');
    // nothing was created by a refused request
    expect(listed.body.data.total).toBe(queued.length + 2);

    await server.close();
    const db = new Database(path.join(dataDir, 'reshoot.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('stops cleanly while the disk is still full, and the database is whole afterwards', async () => {
    const dir = path.join(mountDir, 'data-2');
    const second = await startTestServer({ RESHOOT_DATA_DIR: dir, RESHOOT_MIN_FREE_MB: '8' });
    const api = apiClient(second);
    const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on slate', input_urls: [await productDataUri()] } });
    expect((await api.wait(created.body.data.taskId)).task.status).toBe('success');
    const filler = fill(mountDir);
    await expect(second.close()).resolves.toBeUndefined();
    fs.rmSync(filler);
    const db = new Database(path.join(dir, 'reshoot.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT status FROM tasks').pluck().all()).toEqual(['success']);
    db.close();
  });
});
