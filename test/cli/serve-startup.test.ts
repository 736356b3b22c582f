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
});
