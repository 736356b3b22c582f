import { DelayedError, Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { PermanentTaskError } from '../../errors.js';
import {
  UnrecoverableJobError,
  backoffMs,
  type EnqueueOptions,
  type Job,
  type JobHandlers,
  type JobName,
  type JobPayload,
  type JobQueue,
  type WorkOptions,
} from '../types.js';

export interface BullQueueDeps {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  logger: Logger;
  /** key prefix: lets several queues (tests) share one Redis */
  prefix?: string;
  /** how long a worker holds a job without renewing its lock before another takes it over */
  leaseMs: number;
  defaultMaxAttempts: number;
  /** finished jobs are kept this long, then dropped */
  keepFinishedSeconds?: number;
}

/** Redis connection options from a redis:// URL (BullMQ's workers need maxRetriesPerRequest: null). */
export function redisConnection(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

const NAMES: JobName[] = ['image.reshoot', 'callback.deliver'];

/** A job's id: a render job is its task's (so enqueuing it again is a no-op), a callback job its task's and attempt's. */
function jobIdOf(name: JobName, payload: JobPayload<JobName>): string | undefined {
  if (name === 'image.reshoot') return `render.${(payload as JobPayload<'image.reshoot'>).taskId}`;
  const p = payload as JobPayload<'callback.deliver'>;
  return `callback.${p.taskId}.${p.attempt}`;
}

/**
 * The job queue on Redis through BullMQ (RESHOOT_QUEUE_URL), for workers on several machines. One
 * BullMQ queue per job name, so per-name caps are per-name workers. BullMQ's lock, renewed while a
 * job runs, stands in for the lease: a worker that dies stops renewing, and the stalled-job check
 * moves its job back to waiting. Attempts and backoff are BullMQ's, with the project's backoff.
 * A job counts every start as an attempt (a crash included), as the SQLite queue does.
 *
 * BullMQ cannot join the store's transaction: `transactional` is false, so a task's job is added
 * after the task is committed, under the task's id; a job lost between the two (a crash) is added
 * again by `reconcile`, which is a no-op for a job Redis still holds.
 */
export function createBullQueue(deps: BullQueueDeps): JobQueue & { readonly transactional: false } {
  const connection = redisConnection(deps.url);
  const prefix = deps.prefix ?? 'reshoot';
  const keep = deps.keepFinishedSeconds ?? 7 * 86400;
  const log = deps.logger.child({ module: 'queue' });
  const queues = new Map(NAMES.map((n) => [n, new Queue(n, { connection, prefix })] as const));
  // a lost connection is retried by ioredis; it is logged here rather than printed
  for (const x of queues.values()) x.on('error', (err) => log.warn({ err }, 'queue connection error'));
  const q = (name: JobName) => queues.get(name)!;
  const workers: Worker[] = [];
  const repeats = new Map<string, () => Promise<void>>();
  let maintenance: Queue | null = null;
  const running = new Map<string, AbortController>();
  let stopping = false;
  let closing: Promise<void> | null = null;

  async function enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions = {}): Promise<string> {
    const job = await q(name).add(name, payload, {
      jobId: jobIdOf(name, payload),
      delay: opts.delayMs,
      attempts: opts.maxAttempts ?? deps.defaultMaxAttempts,
      backoff: { type: 'reshoot' },
      removeOnComplete: { age: keep },
      removeOnFail: { age: keep },
    });
    return job.id ?? '';
  }

  function work(handlers: JobHandlers, opts: WorkOptions): void {
    for (const name of NAMES) {
      const handler = handlers[name] as (job: Job, signal: AbortSignal) => Promise<void>;
      const worker = new Worker(
        name,
        async (bull: BullJob, token?: string) => {
          const controller = new AbortController();
          const key = `${name}:${bull.id}`;
          running.set(key, controller);
          const job: Job = { id: bull.id ?? '', name, payload: bull.data, attempt: bull.attemptsStarted, maxAttempts: bull.opts.attempts ?? 1 };
          const jlog = log.child({ job: name, jobId: job.id, attempt: job.attempt });
          try {
            await handler(job, controller.signal);
          } catch (err) {
            if (stopping && controller.signal.aborted) {
              // Shut down mid-run: hand the job back (due now) so another worker runs it again.
              await bull.moveToDelayed(Date.now(), token);
              jlog.warn('job released at shutdown');
              throw new DelayedError();
            }
            if (err instanceof UnrecoverableJobError || err instanceof PermanentTaskError) throw new UnrecoverableError(err.message);
            jlog.warn({ err }, job.attempt >= job.maxAttempts ? 'job failed' : 'job will retry');
            throw err;
          } finally {
            running.delete(key);
          }
        },
        {
          connection,
          prefix,
          autorun: false,
          concurrency: Math.max(1, Math.min(opts.concurrency, opts.perName?.[name] ?? opts.concurrency)),
          lockDuration: deps.leaseMs,
          stalledInterval: Math.max(1000, Math.round(deps.leaseMs / 2)),
          // a job that keeps taking its worker down is failed by its handler, which sees every start
          // as an attempt; BullMQ's own stall limit stays out of the way
          maxStalledCount: 1000,
          settings: { backoffStrategy: (attemptsMade: number) => backoffMs(attemptsMade) },
        },
      );
      worker.on('error', (err) => log.error({ err }, 'queue worker error'));
      workers.push(worker);
      void worker.run().catch((err: unknown) => log.error({ err }, 'queue worker stopped'));
    }
  }

  /**
   * Upkeep on a BullMQ job scheduler: one job per interval for the whole cluster, taken by whichever
   * worker is free, so N workers do not sweep N times.
   */
  function repeatEvery(name: string, everyMs: number, fn: () => Promise<void>): void {
    repeats.set(name, fn);
    if (!maintenance) {
      maintenance = new Queue('maintenance', { connection, prefix });
      maintenance.on('error', (err) => log.warn({ err }, 'queue connection error'));
      const worker = new Worker(
        'maintenance',
        async (job: BullJob) => {
          await repeats.get(job.name)?.();
        },
        { connection, prefix, concurrency: 1, lockDuration: Math.max(deps.leaseMs, 60_000) },
      );
      worker.on('error', (err) => log.error({ err }, 'maintenance worker error'));
      worker.on('failed', (job, err) => log.warn({ err, name: job?.name }, 'upkeep run failed; the next interval runs it again'));
      workers.push(worker);
    }
    maintenance
      .upsertJobScheduler(name, { every: everyMs }, { name, opts: { removeOnComplete: true, removeOnFail: { age: keep } } })
      .catch((err: unknown) => log.error({ err, name }, 'could not schedule upkeep'));
  }

  /** waits for `p` at most `ms`; answers whether it settled */
  const within = (p: Promise<unknown>, ms: number) =>
    Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);

  function close(deadlineMs = 30_000): Promise<void> {
    closing ??= (async () => {
      stopping = true;
      // running jobs finish (bounded); past the deadline they are aborted and hand their jobs back.
      // With Redis unreachable nothing can be handed back: the connections are dropped, and the jobs'
      // locks lapse into the stalled-job check of whichever worker runs next.
      if (!(await within(Promise.allSettled(workers.map((w) => w.close())), deadlineMs))) {
        for (const c of running.values()) c.abort(new Error('worker shutting down'));
        if (!(await within(Promise.allSettled(workers.map((w) => w.close(true))), 2000))) await within(Promise.allSettled(workers.map((w) => w.disconnect())), 2000);
      }
      const all = [...queues.values(), ...(maintenance ? [maintenance] : [])];
      if (!(await within(Promise.allSettled(all.map((x) => x.close())), 2000))) await within(Promise.allSettled(all.map((x) => x.disconnect())), 2000);
    })();
    return closing;
  }

  return {
    transactional: false,
    enqueue,
    enqueueIn() {
      throw new Error('the BullMQ queue cannot enqueue inside a database transaction; enqueue after the commit');
    },
    depth: (name) => q(name).getJobCountByTypes('waiting', 'active', 'delayed', 'prioritized', 'paused'),
    async prune(beforeMs) {
      const grace = Math.max(0, Date.now() - beforeMs);
      let n = 0;
      for (const x of queues.values()) n += (await x.clean(grace, 10_000, 'completed')).length + (await x.clean(grace, 10_000, 'failed')).length;
      return n;
    },
    work,
    repeatEvery,
    async ping() {
      // commands wait for a reconnect while Redis is down: the readiness check gives up after 2 s
      const answered = await within(q('image.reshoot').getJobCountByTypes('waiting'), 2000);
      if (!answered) throw new Error('Redis (RESHOOT_QUEUE_URL) did not answer within 2 s');
    },
    close,
  };
}
