// A reshoot server in its own process for benchmarks, with the flags `npm start` uses.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BenchServer {
  url: string;
  /** the server process, for reading its memory */
  pid: number;
  stop(): Promise<void>;
}

/** Starts `test/helpers/serve-child.ts` with rate limits off and `env` (RESHOOT_* variables) on top. */
export async function startBenchServer(env: Record<string, string>): Promise<BenchServer> {
  // A larger young generation keeps GC pauses out of the tail latency, as in `npm start`.
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', path.join(root, 'test/helpers/serve-child.ts')], {
    cwd: root,
    env: { ...process.env, RESHOOT_PORT: '0', RESHOOT_FIRST_KEY: 'false', RESHOOT_LOG_LEVEL: 'warn', RESHOOT_RATE_LIMIT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}
