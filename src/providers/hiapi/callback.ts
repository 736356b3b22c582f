import { createHmac, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';

/**
 * hiapi's final callback for an upstream task (contract §9), as reshoot takes it:
 *
 * - the create carries `callback.url` = `<RESHOOT_PUBLIC_URL>/upstream/hiapi/callback/<our task id>?t=<token>`,
 *   the token an HMAC of the task id under the server's signing secret, so only whoever was handed
 *   the URL (the upstream) can post for that task, and the URL is the same on every run of the task
 *   (a create retried under the same Idempotency-Key sends the same body);
 * - the route (api/routes/upstream-callback.ts) records "the upstream says final" on the task in the
 *   store, once, and wakes the poller: in this process through the `UpstreamWakeBus`, in another (a
 *   worker beside an API node) through the store, which the worker checks every `storeCheckMs`;
 * - the poller then asks the upstream at once. The callback's body is never taken for the result.
 */

/** The route, in Fastify's spelling. */
export const UPSTREAM_CALLBACK_ROUTE = '/upstream/hiapi/callback/:taskId';

const mac = (secret: string, taskId: string) => createHmac('sha256', secret).update(`hiapi-callback\n${taskId}`).digest('base64url');

/** Where hiapi posts the final callback of the upstream task a reshoot task created. */
export function upstreamCallbackUrl(publicUrl: string, secret: string, taskId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/upstream/hiapi/callback/${encodeURIComponent(taskId)}?t=${mac(secret, taskId)}`;
}

/** Whether `token` is the one upstreamCallbackUrl put in the URL for this task (constant time). */
export function checkCallbackToken(secret: string, taskId: string, token: string | undefined): boolean {
  if (!token) return false;
  const want = Buffer.from(mac(secret, taskId));
  const got = Buffer.from(token);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** In one process (API and worker together), the route tells the worker's poller at once. */
export interface UpstreamWakeBus {
  emit(taskId: string): void;
  /** answers how to stop listening */
  on(taskId: string, wake: () => void): () => void;
}

export function createUpstreamWakeBus(): UpstreamWakeBus {
  const ee = new EventEmitter();
  ee.setMaxListeners(0);
  return {
    emit: (taskId) => void ee.emit(taskId),
    on(taskId, wake) {
      ee.on(taskId, wake);
      return () => void ee.off(taskId, wake);
    },
  };
}

/**
 * The worker's side, for one render: calls `wake` once, when the callback for `taskId` is heard on
 * the bus or found recorded in the store (checked now, then every `everyMs`: a resumed run whose
 * callback came while no worker listened is woken at once). Answers how to stop.
 */
export function watchUpstreamCallback(
  taskId: string,
  wake: () => void,
  o: { bus?: UpstreamWakeBus; recorded: (taskId: string) => Promise<number | null>; everyMs: number; onError?: (err: unknown) => void },
): () => void {
  let done = false;
  const fire = () => {
    if (done) return;
    stop();
    wake();
  };
  const off = o.bus?.on(taskId, fire);
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    o.recorded(taskId).then(
      (at) => {
        if (at !== null) fire();
        else if (!done) timer = setTimeout(check, o.everyMs).unref();
      },
      (err: unknown) => {
        o.onError?.(err);
        if (!done) timer = setTimeout(check, o.everyMs).unref();
      },
    );
  };
  function stop() {
    done = true;
    off?.();
    clearTimeout(timer);
  }
  check();
  return stop;
}
