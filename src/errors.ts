import type { TaskErrorCode } from './contract/errors.js';

/** The error table, AppError and the task-level codes live in contract/ so the SDK shares them. */
export { AppError, DEFAULT_MESSAGES, ERRORS, TASK_ERROR_CODES, type ErrorCode, type TaskErrorCode } from './contract/errors.js';

/**
 * Thrown by job handlers for failures that retrying cannot fix (a bad reference, a corrupt image).
 * The task fails at once with `code` and the message.
 */
export class PermanentTaskError extends Error {
  constructor(
    message: string,
    readonly code: TaskErrorCode = 'TASK_FAILED',
    opts?: ErrorOptions,
  ) {
    super(message, opts);
    this.name = 'PermanentTaskError';
  }
}

/**
 * A failure that another attempt may fix (a download that timed out), whose message is written for
 * the client. Anything else that escapes a render is an internal fault: its text (often a library's)
 * goes to the log, never into the task's `error.message`.
 */
export class RetryableTaskError extends Error {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, opts);
    this.name = 'RetryableTaskError';
  }
}
