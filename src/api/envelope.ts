import { ERRORS, type AppError } from '../errors.js';

/** Every HTTP body is the hiapi envelope (docs/contract.md §7.1); the request id goes in a header. */
export const ok = <T>(data: T) => ({ code: 200, message: 'success', data });

export const failure = (e: AppError) => ({ code: ERRORS[e.code], message: e.message, data: null, error_code: e.code });
