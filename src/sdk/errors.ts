import { ERROR_CODES, TASK_ERROR_CODES, codeOfStatus, type ErrorCode, type TaskErrorCode } from '../contract/errors.js';
import type { TaskObject } from '../contract/task.js';

/** The SDK's own codes, for failures that never got a hiapi answer. */
export const TRANSPORT_ERROR_CODES = [
  /** the request never got an HTTP answer (refused, reset, DNS) */
  'NETWORK',
  /** no answer within `timeoutMs`, or a task not finished within `wait`'s `timeoutMs` */
  'TIMEOUT',
  /** a 2xx answer that is not a hiapi envelope */
  'INVALID_RESPONSE',
] as const;

/** Business codes from the contract's error table (§7, D4), task-level codes (D5), and the SDK's transport codes. */
export type KnownErrorCode = ErrorCode | TaskErrorCode | (typeof TRANSPORT_ERROR_CODES)[number];

export const KNOWN_ERROR_CODES: readonly KnownErrorCode[] = [...new Set([...ERROR_CODES, ...TASK_ERROR_CODES, ...TRANSPORT_ERROR_CODES])];

/** A known code, or whatever string a newer server sends (kept open so new codes do not break callers). */
export type ApiErrorCode = KnownErrorCode | (string & {});

/**
 * The code for an HTTP failure: the envelope's `error_code`, else the code the contract's table gives
 * the status (upstream hiapi leaves `error_code` out on 401, 402, 403, 404, 415, 429 and 503), else
 * `HTTP_<status>`.
 *
 * @example
 * ```ts
 * codeForStatus(401); // 'UNAUTHORIZED' (upstream hiapi sends no error_code with 401)
 * codeForStatus(400, 'MODEL_UNAVAILABLE'); // 'MODEL_UNAVAILABLE'
 * ```
 */
export function codeForStatus(status: number, errorCode?: unknown): ApiErrorCode {
  if (typeof errorCode === 'string' && errorCode !== '') return errorCode;
  return codeOfStatus(status) ?? `HTTP_${status}`;
}

export interface ApiErrorInit {
  status: number;
  code: ApiErrorCode;
  message: string;
  requestId?: string;
  body?: unknown;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Every failure the client reports. `status` is the HTTP status (0 when no response arrived or the
 * request was refused locally), `code` the envelope's `error_code` (or NETWORK / TIMEOUT / a code
 * derived from the status), `requestId` the server's `x-request-id`.
 *
 * @example
 * ```ts
 * try {
 *   await client.tasks.get('tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR');
 * } catch (err) {
 *   if (err instanceof ApiError && err.code === 'NOT_FOUND') console.log('no such task', err.requestId);
 *   else throw err;
 * }
 * ```
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly requestId: string | undefined;
  /** the parsed response body (the envelope), or its text when it was not JSON */
  readonly body: unknown;
  /** the server's Retry-After, in milliseconds, when it sent one */
  readonly retryAfterMs: number | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.body = init.body;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Same as `code`: the envelope's `error_code` (the name the issue and hiapi SDKs use). */
  get errorCode(): ApiErrorCode {
    return this.code;
  }
}

/**
 * A task that ended in `fail`. The HTTP exchange succeeded; the failure is the task's own
 * `error { code, message }` (docs/contract.md §4), kept on `taskError` and as `code` / `message`.
 *
 * @example
 * ```ts
 * try {
 *   await client.tasks.wait(taskId);
 * } catch (err) {
 *   if (err instanceof TaskFailedError) console.log(err.task.taskId, err.taskError.code, err.message);
 * }
 * ```
 */
export class TaskFailedError extends ApiError {
  readonly task: TaskObject;
  readonly taskError: { code: string; message: string };

  constructor(task: TaskObject, requestId?: string) {
    const taskError = task.error ?? { code: 'TASK_FAILED', message: 'the task failed without a reason' };
    super({ status: 200, code: taskError.code, message: `task ${task.taskId} failed: ${taskError.message}`, requestId, body: task });
    this.name = 'TaskFailedError';
    this.task = task;
    this.taskError = taskError;
  }
}

/** Why a callback was rejected by `verifyCallback`. */
export type CallbackRejection = 'MISSING_HEADERS' | 'STALE_TIMESTAMP' | 'BAD_SIGNATURE' | 'BAD_BODY';

/**
 * A callback that did not pass `verifyCallback`; answer the sender with 401 (or 400 for BAD_BODY).
 *
 * @example
 * ```ts
 * try { verifyCallback(raw, req.headers, secret); } catch (err) {
 *   if (err instanceof CallbackVerificationError) { res.statusCode = 401; res.end(err.reason); }
 * }
 * ```
 */
export class CallbackVerificationError extends Error {
  constructor(
    readonly reason: CallbackRejection,
    message: string,
  ) {
    super(message);
    this.name = 'CallbackVerificationError';
  }
}
