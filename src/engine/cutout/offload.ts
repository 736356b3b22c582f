import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Raster8 } from '../raster/types.js';
import type { ChecksInput, ChecksResult } from './matte.js';

/**
 * A thread for the cutout's see-through and clear-glass checks (matteFromModelOffloaded). Once the model
 * has answered, its threads are idle and the refinement at full resolution holds one core; the checks
 * read only model-sized planes, so they take another. One thread per process (per engine thread in the
 * server), started with the model and unreferenced, so it never keeps a process alive. A check the
 * thread cannot answer (it failed to start, or died) is rejected, and the caller runs it inline: the
 * same result, later.
 */

export interface CheckRequest {
  id: number;
  small: Raster8;
  prior: Float32Array;
  trust: Float32Array;
}

export type CheckAnswer = { id: number; result: ChecksResult } | { id: number; error: string };

let thread: ChecksThread | null = null;
/** threads that failed in this process; after MAX_FAILURES the checks stay inline rather than start another each time */
let failures = 0;
const MAX_FAILURES = 3;

/** Starts the thread if it is not running (a cutout does so while its model loads, to have it warm). */
export function startChecksThread(): void {
  if ((!thread || thread.broken) && failures < MAX_FAILURES) thread = new ChecksThread(() => failures++);
}

/** The checks on the thread; rejects when the thread cannot answer. */
export function checksInThread(input: ChecksInput): Promise<ChecksResult> {
  startChecksThread();
  return thread && !thread.broken ? thread.run(input) : Promise.reject(new Error('the checks thread is not running'));
}

/**
 * The file of tsx's `tsx/esm/api` export for import, by its package's exports (import.meta.resolve is
 * missing in a thread that runs through tsx itself, and require's resolution gives the CommonJS build).
 */
function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require(manifest) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(manifest), exports['./esm/api']!.import.default)).href;
}

class ChecksThread {
  broken = false;
  private readonly worker: Worker;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (r: ChecksResult) => void; reject: (e: Error) => void }>();

  constructor(private readonly onFailure: () => void) {
    // from the TypeScript sources (tests, tsx) the thread registers tsx's loader before it imports its
    // module (a thread's --import in execArgv does not reach a module it imports itself)
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = JSON.stringify(new URL(`./checks-thread.${fromSource ? 'ts' : 'js'}`, import.meta.url).href);
    const boot = fromSource ? `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${entry}); })` : `import(${entry})`;
    // a module that fails to load ends the thread with an error, which fails every check still waiting
    this.worker = new Worker(boot, { eval: true });
    this.worker.unref();
    this.worker.on('message', (m: CheckAnswer) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (!w) return;
      // held only while a check is out: a process waiting for nothing else must not end before its answer
      if (!this.waiting.size) this.worker.unref();
      if ('error' in m) w.reject(new Error(m.error));
      else w.resolve(m.result);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the checks thread exited with code ${code}`)));
  }

  run({ small, prior, trust }: ChecksInput): Promise<ChecksResult> {
    const id = this.next++;
    return new Promise<ChecksResult>((resolve, reject) => {
      if (!this.waiting.size) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      // copied, not transferred: the caller goes on reading all three
      this.worker.postMessage({ id, small: { data: small.data, width: small.width, height: small.height, channels: small.channels }, prior, trust } satisfies CheckRequest);
    });
  }

  private fail(err: Error): void {
    if (!this.broken) this.onFailure();
    this.broken = true;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
