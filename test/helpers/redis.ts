import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', ...(process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'redis-server'))].find(
  (f) => f && fs.existsSync(f),
);

/** Why Redis tests cannot run here, or null when they can. */
export const redisUnavailable: string | null = binary ? null : 'redis-server is not installed (.ci/run installs the Debian package)';
if (redisUnavailable) console.warn(`[redis tests skipped] ${redisUnavailable}`);

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/** A throwaway redis-server on a free loopback port, nothing persisted, for one test file. */
export async function startRedis(): Promise<TestRedis> {
  if (!binary) throw new Error(redisUnavailable!);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
