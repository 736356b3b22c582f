import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, spawnCli } from './run-cli.js';

let busy: net.Server;
let port: number;
let dataDir: string;

beforeAll(async () => {
  busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  port = (busy.address() as net.AddressInfo).port;
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-startup-'));
});
afterAll(async () => {
  busy.close();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('reshoot serve start-up', () => {
  it('exits non-zero, with the reason, when its port is taken, and starts no worker on the data dir', async () => {
    const child = spawnCli(['serve', '--port', String(port), '--data-dir', dataDir], { RESHOOT_LOG_LEVEL: 'warn' });
    // Bounded: a server that keeps running after a failed listen is the bug this test is for.
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const r = await collect(child);
    clearTimeout(killer);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not start: .*EADDRINUSE/);
    // No key was made for a server nobody could reach, and no worker or engine touched the data dir.
    expect(r.stdout).not.toMatch(/API key was created/);
    const entries = await fs.readdir(dataDir);
    expect(entries).not.toContain('blobs');
    expect(entries).not.toContain('cache');
  });

  it('prints a human banner with the studio address on stdout and the JSON log on stderr', async () => {
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const freePort = (free.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-banner-'));
    const child = spawnCli(['serve', '--port', String(freePort), '--data-dir', dir], { RESHOOT_LOG_LEVEL: 'info', RESHOOT_ENGINE_THREADS: '1' });
    const done = collect(child);
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      // the banner ends with how to make more keys; stdout may arrive in several chunks
      if (stdout.includes('reshoot keys revoke')) child.kill('SIGTERM');
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const r = await done;
    clearTimeout(killer);
    await fs.rm(dir, { recursive: true, force: true });
    expect(r.stdout).toContain(`open the studio at http://127.0.0.1:${freePort}/`);
    expect(r.stdout).toMatch(/API key was created/);
    // no log line on the console meant for people; the log is there, on stderr, as JSON
    expect(r.stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    const log = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string });
    expect(log.map((l) => l.msg)).toContain('reshoot started');
  }, 150_000);
});
