import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { Db } from './database.js';

// Plain JavaScript so it runs the same from the TypeScript sources and from dist/.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err && err.message)); }
}, workerData.intervalMs);
parentPort.on('message', (m) => { if (m === 'stop') { clearInterval(timer); db.close(); parentPort.close(); } });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the event loop: SQLite's automatic checkpoint runs inside whichever
 * write crosses the threshold, which showed up as the p99 of task creation (bench/api.bench.ts).
 * A thread with its own connection checkpoints every `intervalMs` instead; small, frequent
 * checkpoints (200 ms) kept the p99 of creates paced at 500/s at 11 ms where 1 s gave 22 ms.
 */
export function startCheckpointer(db: Db, file: string, intervalMs = 1000, onError?: (message: string) => void): Checkpointer {
  db.pragma('wal_autocheckpoint = 0');
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(THREAD, { eval: true, workerData: { file, intervalMs, driver } });
  worker.unref();
  worker.on('message', (m: string) => onError?.(m));
  worker.on('error', (err) => onError?.(err.message));
  let stopped: Promise<void> | null = null;
  return {
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        // Held while it stops: unreferenced, a process with nothing else left would end before the
        // final checkpoint below, with the caller still waiting.
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage('stop');
        setTimeout(() => void worker.terminate(), 2000).unref();
      }).then(() => {
        // Leave the WAL folded into the database for the next start. On a full disk this can fail:
        // the WAL stays and the next start folds it in, so stopping goes on.
        try {
          db.pragma('wal_checkpoint(TRUNCATE)');
          db.pragma('wal_autocheckpoint = 1000');
        } catch (err) {
          onError?.(`final checkpoint failed: ${(err as Error).message}`);
        }
      });
      return stopped;
    },
  };
}
