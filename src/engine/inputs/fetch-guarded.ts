import { request } from 'undici';
import type { AddressGuard } from './address-guard.js';
import { AddressRefusedError } from './address-guard.js';

export class FetchError extends Error {
  constructor(message: string, readonly retryable: boolean, opts?: ErrorOptions) {
    super(message, opts);
    this.name = 'FetchError';
  }
}

export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export interface Fetched {
  bytes: Buffer;
  contentType: string | null;
  finalUrl: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GETs a URL through the address guard: at most `maxRedirects` redirects, each target checked again,
 * the body capped at `maxBytes`, the whole exchange bounded by `timeoutMs`.
 * Failures are FetchError with a short reason (no URL in it: callers name the position).
 */
export async function fetchGuarded(rawUrl: string, guard: AddressGuard, limits: FetchLimits, signal?: AbortSignal): Promise<Fetched> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
  let url = new URL(rawUrl);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchError(`refused: ${url.protocol} URLs are not fetched`, false);
    const why = guard.checkUrl(url);
    if (why) throw new FetchError(`refused: ${why}`, false);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher: guard.dispatcher,
        signal: combined,
        headers: { accept: 'image/*', 'user-agent': 'reshoot (+image fetch)' },
        headersTimeout: limits.timeoutMs,
        bodyTimeout: limits.timeoutMs,
      });
    } catch (err) {
      throw describeNetworkError(err, deadline, limits);
    }
    if (REDIRECTS.has(res.statusCode)) {
      await res.body.dump().catch(() => {});
      const location = res.headers.location;
      if (typeof location !== 'string') throw new FetchError(`download failed (HTTP ${res.statusCode} without Location)`, false);
      if (hop >= limits.maxRedirects) throw new FetchError(`download failed (more than ${limits.maxRedirects} redirects)`, false);
      url = new URL(location, url);
      continue;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump().catch(() => {});
      throw new FetchError(`download failed (HTTP ${res.statusCode})`, res.statusCode >= 500 || res.statusCode === 429);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      res.body.destroy();
      throw new FetchError(`download failed (${mb(declared)} is over the ${mb(limits.maxBytes)} limit)`, false);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body) {
        total += (chunk as Buffer).length;
        if (total > limits.maxBytes) {
          res.body.destroy();
          throw new FetchError(`download failed (body is over the ${mb(limits.maxBytes)} limit)`, false);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw describeNetworkError(err, deadline, limits);
    }
    const ct = res.headers['content-type'];
    return { bytes: Buffer.concat(chunks), contentType: typeof ct === 'string' ? ct : null, finalUrl: url.href };
  }
}

function describeNetworkError(err: unknown, deadline: AbortSignal, limits: FetchLimits): FetchError {
  if (deadline.aborted) return new FetchError(`download failed (timed out after ${limits.timeoutMs / 1000} s)`, true, { cause: err });
  let e: unknown = err;
  while (e instanceof Error) {
    if (e instanceof AddressRefusedError) return new FetchError(`refused: ${e.message}`, false, { cause: err });
    e = e.cause;
  }
  const code = (err as { code?: string }).code;
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new FetchError('download failed (host not found)', code === 'EAI_AGAIN', { cause: err });
  return new FetchError(`download failed (${code ?? msg})`, true, { cause: err });
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 2 : 0)} MB`;
