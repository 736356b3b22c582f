import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The resumable state of a batch: an append-only JSON-lines journal in the output directory. Each
 * line is written (and flushed) the moment something finishes, after the output file was renamed
 * into place, so a crash loses at most the items that were still in flight. Reading keeps the last
 * record per item; a torn last line (killed mid-write) is ignored.
 */

export const STATE_FILE = '.reshoot-batch.jsonl';
const LOCK_FILE = '.reshoot-batch.lock';

export type StateRecord =
  | { t: 'done'; key: string; out: string; ms: number; at: number; taskId?: string }
  | { t: 'failed'; key: string; error: string; at: number; taskId?: string }
  /** a task was created on the server for this item (resume waits on it instead of creating another); `route` when one was sent */
  | { t: 'submitted'; key: string; taskId: string; attempt: number; at: number; route?: string }
  /** a local image uploaded to the server (resume reuses the URL, so replays stay byte-identical) */
  | { t: 'upload'; image: string; url: string; at: number };

export interface BatchState {
  done: Map<string, Extract<StateRecord, { t: 'done' }>>;
  failedCount: Map<string, number>;
  submitted: Map<string, Extract<StateRecord, { t: 'submitted' }>>;
  uploads: Map<string, string>;
  /** items marked done in earlier runs (how many times each was recorded done: must stay 1) */
  doneRecords: Map<string, number>;
}

export function readState(dir: string): BatchState {
  const state: BatchState = { done: new Map(), failedCount: new Map(), submitted: new Map(), uploads: new Map(), doneRecords: new Map() };
  const file = path.join(dir, STATE_FILE);
  if (!existsSync(file)) return state;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let r: StateRecord;
    try {
      r = JSON.parse(line) as StateRecord;
    } catch {
      continue; // a line torn by a kill
    }
    switch (r.t) {
      case 'done':
        state.done.set(r.key, r);
        state.doneRecords.set(r.key, (state.doneRecords.get(r.key) ?? 0) + 1);
        state.submitted.delete(r.key);
        break;
      case 'failed':
        state.done.delete(r.key);
        state.submitted.delete(r.key);
        state.failedCount.set(r.key, (state.failedCount.get(r.key) ?? 0) + 1);
        break;
      case 'submitted':
        state.submitted.set(r.key, r);
        break;
      case 'upload':
        state.uploads.set(r.image, r.url);
        break;
    }
  }
  return state;
}

/** Appends one record synchronously, so it is on disk before the next item starts. */
export function appendState(dir: string, record: StateRecord): void {
  appendFileSync(path.join(dir, STATE_FILE), `${JSON.stringify(record)}\n`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One batch per output directory at a time; a lock left by a dead process is taken over. */
export function lockDir(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`${dir}: another batch (pid ${pid}) is writing here; wait for it or stop it first`, { cause: err });
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`${dir}: could not take the batch lock`);
}

/** Removes half-written outputs a killed run left behind (they never got a state record). */
export function removePartials(dir: string): void {
  for (const f of readdirSync(dir)) if (f.startsWith('.') && f.endsWith('.part')) rmSync(path.join(dir, f), { force: true });
}
