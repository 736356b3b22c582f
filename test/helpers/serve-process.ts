import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'serve-child.ts');

/**
 * `reshoot serve` in a child process of its own (test/helpers/serve-child.ts), for the tests that kill and
 * restart it: `env` on top of this process's environment (the log is silent unless RESHOOT_TEST_LOG is
 * set). Resolves once it listens, with its address (empty for a lone worker, which listens on nothing).
 */
export function startServeProcess(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, RESHOOT_LOG_LEVEL: process.env.RESHOOT_TEST_LOG ?? 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (process.env.RESHOOT_TEST_LOG) process.stdout.write(d);
      const m = /LISTENING (\S*)/.exec(out);
      if (m) resolve({ child, url: m[1] === 'null' ? '' : m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`reshoot exited early with ${code}: ${out}`)));
  });
}
