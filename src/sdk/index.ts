/**
 * reshoot/sdk: a typed client for reshoot and for hiapi itself (the unified async task API).
 * Imports nothing from the server except the shared contract (types, model registry, rule table).
 *
 * @example
 * ```ts
 * import { Client, ApiError, TaskFailedError } from 'reshoot/sdk';
 *
 * const client = new Client({ baseUrl: 'https://api.hiapi.ai', apiKey: 'sk-...' });
 * const { taskId } = await client.tasks.create('gpt-image-2-image-to-image', {
 *   prompt: 'on a cafe counter, morning light', input_urls: ['https://example.com/mug.jpg'],
 * });
 * const task = await client.tasks.wait(taskId);
 * await client.download(task.output![0]!, 'mug-cafe.png');
 * ```
 */
export { Client } from './client.js';
export { ApiError, TaskFailedError, CallbackVerificationError, KNOWN_ERROR_CODES, codeForStatus } from './errors.js';
export type { ApiErrorCode, ApiErrorInit, CallbackRejection, KnownErrorCode } from './errors.js';
export { verifyCallback, signCallback } from './callbacks.js';
export type { HeadersLike, VerifyCallbackOptions } from './callbacks.js';
export { priceFor } from '../contract/pricing.js';
export { parseRetryAfter } from './retry.js';
export { MODELS, comboProblem, outputSize, ASPECT_RATIOS, PRO_ASPECT_RATIOS, RESOLUTIONS } from '../contract/models.js';
export type { ModelSpec } from '../contract/models.js';
export { servedRoutes } from '../contract/served-models.js';
export type * from './types.js';
