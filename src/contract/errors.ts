/**
 * The one error table: every business code the API can send, with its HTTP status.
 * Codes never change once shipped (docs/contract.md §7, decision D4). The server answers from it
 * (src/errors.ts re-exports it) and the SDK derives its code list and its status fallback from it.
 */
export const ERRORS = {
  INVALID_REQUEST: 400,
  MODEL_UNAVAILABLE: 400,
  UNAUTHORIZED: 401,
  INSUFFICIENT_BALANCE: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  IDEMPOTENCY_KEY_PROCESSING: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_MISMATCH: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  STORAGE_UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** Default messages, used when a throw site has nothing more specific to say. */
export const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  INVALID_REQUEST: 'invalid request',
  MODEL_UNAVAILABLE: 'model temporarily unavailable',
  UNAUTHORIZED: 'missing or invalid API key',
  INSUFFICIENT_BALANCE: 'insufficient balance: the task was not created and not charged',
  FORBIDDEN: 'this key may not use this resource',
  NOT_FOUND: 'not found',
  IDEMPOTENCY_KEY_PROCESSING: 'a request with this Idempotency-Key is still in progress',
  PAYLOAD_TOO_LARGE: 'request body too large',
  UNSUPPORTED_MEDIA_TYPE: 'Content-Type must be application/json',
  IDEMPOTENCY_KEY_MISMATCH: 'Idempotency-Key was already used with a different request body',
  RATE_LIMITED: 'rate limit exceeded',
  INTERNAL_ERROR: 'internal error',
  SERVICE_UNAVAILABLE: 'service temporarily unavailable',
  STORAGE_UNAVAILABLE: 'storage temporarily unavailable',
};

/**
 * The code a status stands for when an answer carries no `error_code` (upstream hiapi leaves it out
 * on 401, 402, 403, 404, 415, 429 and 503): the first code in the table with that status, so 400 is
 * INVALID_REQUEST and 503 SERVICE_UNAVAILABLE.
 */
export function codeOfStatus(status: number): ErrorCode | undefined {
  return ERROR_CODES.find((code) => ERRORS[code] === status);
}

/** A refusal with a code from the table; the server's error handler answers it as the envelope. */
export class AppError extends Error {
  readonly retryAfter?: number;
  constructor(
    readonly code: ErrorCode,
    message: string = DEFAULT_MESSAGES[code],
    opts?: ErrorOptions & { retryAfter?: number },
  ) {
    super(message, opts);
    this.name = 'AppError';
    this.retryAfter = opts?.retryAfter;
  }
  get status(): number {
    return ERRORS[this.code];
  }
}

/** Task-level failure codes: what `error.code` of a failed task may hold (decision D5). */
export const TASK_ERROR_CODES = ['TASK_FAILED', 'TASK_TIMEOUT', 'STORAGE_UNAVAILABLE'] as const;
export type TaskErrorCode = (typeof TASK_ERROR_CODES)[number];
