import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPackshot, type Product } from '../fixtures/index.js';

/** The repository root: the CLI runs from here so its engine threads can load tsx. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `reshoot ARGS` from the sources as a child process. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  const base = { ...process.env };
  delete base.RESHOOT_SERVER;
  delete base.RESHOOT_API_KEY;
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main-dev.ts'), ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

export const runCli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => collect(spawnCli(args, env));

export const jsonLines = (s: string): Array<Record<string, unknown>> =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Writes small packshots (and optionally a corrupt JPEG) into `dir`. */
export async function writePackshots(dir: string, products: Product[], opts: { corrupt?: string; size?: number } = {}): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const [i, product] of products.entries()) {
    const shot = await renderPackshot({ product, background: i % 2 ? 'light-grey' : 'white', width: opts.size ?? 320, height: opts.size ?? 320, seed: i });
    const file = path.join(dir, `${product}-${i}.png`);
    await writeFile(file, shot.png);
    files.push(file);
  }
  if (opts.corrupt) {
    // a JPEG that ends inside its header: sharp refuses it with "premature end"
    await writeFile(path.join(dir, opts.corrupt), Buffer.from('ffd8ffe000104a4649460001010000010001', 'hex'));
  }
  return files;
}
