import type { StoreTx } from '../store/types.js';

/**
 * The queue's semantics, independent of the datastore. Jobs carry ids, never bytes.
 * Adding a job name without routing it in the worker fails to compile (the handler record is exhaustive).
 */
export const JOB = {
  reshoot: 'image.reshoot',
  callback: 'callback.deliver',
} as const;

export interface JobPayloads {
  'image.reshoot': { taskId: string };
  'callback.deliver': { taskId: string; attempt: number; firstAttemptMs: number };
}
export type JobName = keyof JobPayloads;
export type JobPayload<N extends JobName> = JobPayloads[N];

export interface Job<N extends JobName = JobName> {
  id: string;
  name: N;
  payload: JobPayload<N>;
  /** 1 on the first run; counts runs cut short by a crash too */
  attempt: number;
  maxAttempts: number;
}

export type JobHandler<N extends JobName> = (job: Job<N>, signal: AbortSignal) => Promise<void>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

export interface EnqueueOptions {
  /** run no earlier than this many ms from now */
  delayMs?: number;
  maxAttempts?: number;
}

export interface WorkOptions {
  concurrency: number;
  /** per-name concurrency caps (callbacks should not wait behind long renders) */
  perName?: Partial<Record<JobName, number>>;
}

export interface JobQueue {
  /**
   * true: the queue lives in the store's database and `enqueueIn` adds a job inside a store
   * transaction. false (Redis): jobs are added after the commit, and a job lost in between is added
   * again by the reconciler (`reconcileQueued`).
   */
  readonly transactional: boolean;
  enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts?: EnqueueOptions): Promise<string>;
  /**
   * Enqueues inside a store transaction (the task create's), so the job commits with the task. A queue
   * in the store's own database writes through `tx`; SQLite's must answer synchronously.
   */
  enqueueIn<N extends JobName>(tx: StoreTx, name: N, payload: JobPayload<N>, opts?: EnqueueOptions): string | Promise<string>;
  /** jobs of this name not finished yet (waiting or running) */
  depth(name: JobName): Promise<number>;
  /** drops finished and failed jobs last touched before `beforeMs`; answers how many */
  prune(beforeMs: number): Promise<number>;
  /**
   * Runs `fn` every `everyMs` on one worker of the whole cluster (upkeep such as the sweep). Absent:
   * the queue has no cluster-wide schedule, and each worker process keeps its own timer.
   */
  repeatEvery?(name: string, everyMs: number, fn: () => Promise<void>): void;
  /** a round trip to the queue's own service (`/readyz`); absent when it lives in the store's database */
  ping?(): Promise<void>;
  work(handlers: JobHandlers, opts: WorkOptions): void;
  /** stops claiming, waits for running jobs up to `deadlineMs`, then aborts them; idempotent */
  close(deadlineMs?: number): Promise<void>;
}

/** Thrown by a handler when retrying cannot help; the job is not retried. */
export class UnrecoverableJobError extends Error {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = 'UnrecoverableJobError';
  }
}

/** Exponential backoff with full jitter: 1 s, 2 s, 4 s … capped at 60 s. */
export function backoffMs(attempt: number, random = Math.random): number {
  const cap = Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}
