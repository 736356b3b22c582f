import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TaskObject } from '../contract/task.js';
import { CallbackVerificationError } from './errors.js';
import { readTask } from './read.js';

/** Headers as Node (`req.headers`), fetch (`Headers`) or a plain record give them. */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

export interface VerifyCallbackOptions {
  /** how far the timestamp may be from now, either way; default 300 s (contract §9) */
  toleranceSec?: number;
  /** the receiver's clock in Unix seconds (tests) */
  now?: number;
}

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The signature a hiapi sender puts in `X-HiAPI-Signature`: lowercase hex
 * HMAC-SHA256(secret, timestamp + "." + rawBody).
 *
 * @example
 * ```ts
 * const ts = String(Math.floor(Date.now() / 1000));
 * const sig = signCallback(body, ts, process.env.WEBHOOK_SECRET!);
 * ```
 */
export function signCallback(rawBody: string | Uint8Array, timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/**
 * Checks a callback's `X-HiAPI-Timestamp` / `X-HiAPI-Signature` over the raw body bytes, in constant
 * time, rejecting timestamps more than `toleranceSec` away; returns the task it carries.
 * Throws `CallbackVerificationError` (answer 401) when anything is off. Deduplicate by `taskId`:
 * delivery is at-least-once.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { verifyCallback, CallbackVerificationError } from 'reshoot/sdk';
 *
 * createServer(async (req, res) => {
 *   const chunks: Buffer[] = [];
 *   for await (const c of req) chunks.push(c as Buffer);
 *   try {
 *     const task = verifyCallback(Buffer.concat(chunks), req.headers, secret);
 *     console.log(task.taskId, task.status);
 *     res.statusCode = 204;
 *   } catch (err) {
 *     res.statusCode = err instanceof CallbackVerificationError ? 401 : 500;
 *   }
 *   res.end();
 * }).listen(3000);
 * ```
 */
export function verifyCallback(
  rawBody: string | Uint8Array,
  headers: HeadersLike,
  secret: string,
  opts: VerifyCallbackOptions = {},
): TaskObject {
  const tolerance = opts.toleranceSec ?? 300;
  const timestamp = header(headers, 'x-hiapi-timestamp');
  const signature = header(headers, 'x-hiapi-signature');
  if (!timestamp || !signature) {
    throw new CallbackVerificationError('MISSING_HEADERS', 'X-HiAPI-Timestamp and X-HiAPI-Signature are required');
  }
  if (!/^\d{1,12}$/.test(timestamp.trim())) {
    throw new CallbackVerificationError('STALE_TIMESTAMP', `X-HiAPI-Timestamp is not Unix seconds: ${JSON.stringify(timestamp)}`);
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const skew = Math.abs(now - Number(timestamp));
  if (skew > tolerance) {
    throw new CallbackVerificationError('STALE_TIMESTAMP', `timestamp is ${skew} s away from now (tolerance ${tolerance} s)`);
  }
  const expected = Buffer.from(signCallback(rawBody, timestamp.trim(), secret), 'hex');
  const given = /^[0-9a-fA-F]{64}$/.test(signature.trim()) ? Buffer.from(signature.trim(), 'hex') : Buffer.alloc(0);
  // Equal lengths are required by timingSafeEqual; a malformed header is just a wrong signature.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new CallbackVerificationError('BAD_SIGNATURE', 'X-HiAPI-Signature does not match the body');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8'));
    return readTask(parsed);
  } catch (err) {
    throw new CallbackVerificationError('BAD_BODY', `callback body is not a task object (${(err as Error).message})`);
  }
}
