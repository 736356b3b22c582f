import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { request } from 'undici';
import { AddressRefusedError, type AddressGuard } from '../engine/inputs/address-guard.js';
import { JOB, type Job, type JobQueue } from '../queue/types.js';
import type { Store } from '../store/types.js';
import type { KeyService } from './keys.js';
import type { TaskService } from './service.js';

/** `hex(HMAC_SHA256(secret, timestamp + "." + rawBody))`, lowercase (docs/contract.md §9). */
export function signCallback(secret: string, timestamp: string, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export interface CallbackDeps {
  store: Store;
  tasks: TaskService;
  keys: KeyService;
  queue: JobQueue;
  guard: AddressGuard;
  logger: Logger;
  defaultSecret?: string;
  timeoutMs: number;
  /** seconds after the first attempt for each retry: 60,300,1200 → 4 attempts in all */
  retryScheduleSeconds: readonly number[];
  userAgent: string;
}

export interface CallbackSender {
  /** enqueues the first delivery of a task that just became terminal */
  schedule(taskId: string): Promise<void>;
  /** the `callback.deliver` job handler */
  deliver(job: Job<'callback.deliver'>, signal: AbortSignal): Promise<void>;
}

/**
 * Delivers the bare task object to `callback.url` on terminal states, signed afresh on every attempt
 * (a retry 20 minutes later with the first timestamp would fail the receiver's 300 s window).
 * Attempts are rows in the store and retries are queue jobs, so delivery survives restarts.
 */
export function createCallbackSender(deps: CallbackDeps): CallbackSender {
  const log = deps.logger.child({ module: 'callbacks' });
  return {
    async schedule(taskId) {
      const row = await deps.tasks.load(taskId);
      if (!row?.callback_url) return;
      await deps.queue.enqueue(JOB.callback, { taskId, attempt: 1, firstAttemptMs: Date.now() }, { maxAttempts: 1 });
    },
    async deliver(job, signal) {
      const { taskId, attempt, firstAttemptMs } = job.payload;
      const row = await deps.tasks.load(taskId);
      if (!row?.callback_url) return;
      const body = JSON.stringify(deps.tasks.toObject(row));
      const secret = (await deps.keys.get(row.key_id))?.webhookSecret ?? deps.defaultSecret;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': deps.userAgent };
      if (secret) {
        const ts = String(Math.floor(Date.now() / 1000));
        headers['x-hiapi-timestamp'] = ts;
        headers['x-hiapi-signature'] = signCallback(secret, ts, body);
      }
      let status: number | null = null;
      let error: string | null = null;
      const url = new URL(row.callback_url);
      let refused = deps.guard.checkUrl(url);
      if (refused) {
        error = `refused: ${refused}`;
      } else {
        try {
          const res = await request(url, {
            method: 'POST',
            headers,
            body,
            dispatcher: deps.guard.dispatcher,
            signal: AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]),
            headersTimeout: deps.timeoutMs,
            bodyTimeout: deps.timeoutMs,
          });
          status = res.statusCode;
          await res.body.dump().catch(() => {});
        } catch (err) {
          error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          // the name resolved to a refused address: as final as a refused literal, not retried
          const cause = err instanceof Error && err.cause instanceof AddressRefusedError ? err.cause : err;
          if (cause instanceof AddressRefusedError) refused = cause.message;
        }
      }
      const ok = status !== null && status >= 200 && status < 300;
      await deps.store.callbacks.record({ taskId, attempt, atMs: Date.now(), statusCode: status, error, ok });
      if (ok) {
        log.info({ taskId, attempt, status }, 'callback delivered');
        return;
      }
      const next = deps.retryScheduleSeconds[attempt - 1];
      if (next === undefined || refused) {
        log.warn({ taskId, attempt, status, error }, 'callback given up');
        return;
      }
      const delayMs = Math.max(0, firstAttemptMs + next * 1000 - Date.now());
      await deps.queue.enqueue(JOB.callback, { taskId, attempt: attempt + 1, firstAttemptMs }, { delayMs, maxAttempts: 1 });
      log.warn({ taskId, attempt, status, error, retryInMs: delayMs }, 'callback failed; will retry');
    },
  };
}
