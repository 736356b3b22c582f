import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { checkCallbackToken, UPSTREAM_CALLBACK_ROUTE, type UpstreamWakeBus } from '../../providers/hiapi/callback.js';
import { CallbackVerificationError } from '../../sdk/errors.js';
import { verifyCallback } from '../../sdk/callbacks.js';
import { storedUpstream, type TaskService } from '../../tasks/service.js';
import { ok } from '../envelope.js';

export interface UpstreamCallbackDeps {
  tasks: Pick<TaskService, 'load' | 'markUpstreamFinal'>;
  /** the server's signing secret: the `t` token in each callback URL is an HMAC of the task id under it */
  tokenSecret: string;
  /** RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET: when set, hiapi's X-HiAPI-Signature is checked too */
  webhookSecret?: string;
  /** the worker in this process, woken at once (a worker elsewhere finds the record on the task) */
  bus?: UpstreamWakeBus;
}

/** What the route did with a callback (the answer's `data.outcome`). */
export type CallbackOutcome = 'accepted' | 'duplicate' | 'finished' | 'other_upstream_task';

type CallbackRequest = FastifyRequest<{ Params: { taskId: string }; Querystring: { t?: string } }>;

/**
 * `POST /upstream/hiapi/callback/:taskId?t=<token>`: hiapi's final callback for the upstream task a
 * reshoot task created (providers/hiapi/callback.ts). No API key: the token in the URL (and, with
 * RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET, hiapi's signature: constant time, 300 s skew) says who may
 * post; anything else is 401 and changes nothing.
 *
 * The body is not trusted for the result (without a webhook secret it may be anyone's who learned the
 * URL): a good callback only records "the upstream says final" on the task, once, and wakes the
 * poller, which asks the upstream itself. Answers, all fast:
 * - 200 `accepted`: recorded, the poller woken;
 * - 200 `duplicate`: recorded before (hiapi delivers at least once, maybe twice or concurrently): nothing done;
 * - 200 `finished`: the task is over already: nothing done (2xx so hiapi stops retrying);
 * - 200 `other_upstream_task`: the body names an upstream task other than the one stored on the task: nothing done;
 * - 404 NOT_FOUND: no such task (removed); hiapi retries a few times and stops.
 */
export function registerUpstreamCallbackRoute(app: FastifyInstance, deps: UpstreamCallbackDeps): void {
  app.post(UPSTREAM_CALLBACK_ROUTE, async (req: CallbackRequest) => {
    const { taskId } = req.params;
    if (!checkCallbackToken(deps.tokenSecret, taskId, req.query.t)) throw new AppError('UNAUTHORIZED', 'the callback token does not match this task');
    let upstreamTaskId: string | undefined;
    if (deps.webhookSecret) {
      try {
        upstreamTaskId = verifyCallback(req.rawBody ?? Buffer.alloc(0), req.headers, deps.webhookSecret).taskId;
      } catch (err) {
        if (err instanceof CallbackVerificationError && err.reason === 'BAD_BODY') throw new AppError('INVALID_REQUEST', err.message);
        if (err instanceof CallbackVerificationError) throw new AppError('UNAUTHORIZED', `the callback's signature was refused: ${err.message}`);
        throw err;
      }
    } else {
      const body = req.body as { taskId?: unknown } | null | undefined;
      if (body && typeof body === 'object' && typeof body.taskId === 'string') upstreamTaskId = body.taskId;
    }
    const row = await deps.tasks.load(taskId);
    if (!row) throw new AppError('NOT_FOUND', 'task not found');
    const stored = storedUpstream(row);
    let outcome: CallbackOutcome;
    if (stored && upstreamTaskId !== undefined && stored.taskId !== upstreamTaskId) outcome = 'other_upstream_task';
    else {
      // the upstream task id may not be stored yet (a fast upstream): the poller asks about the one it has
      const marked = await deps.tasks.markUpstreamFinal(taskId);
      if (marked === 'unknown') throw new AppError('NOT_FOUND', 'task not found');
      outcome = marked === 'marked' ? 'accepted' : marked === 'again' ? 'duplicate' : 'finished';
      if (marked === 'marked') deps.bus?.emit(taskId);
    }
    req.log.info({ taskId, upstreamTaskId, outcome }, 'upstream callback');
    return ok({ taskId, outcome });
  });
}
