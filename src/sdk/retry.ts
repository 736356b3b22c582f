/** Retry-After and backoff arithmetic (docs/contract.md §7.4), kept pure so it is easy to test. */

/** The contract caps any wait a server asks for at 60 s. */
export const MAX_RETRY_DELAY_MS = 60_000;

/**
 * Parses `Retry-After` as integer seconds or an HTTP date (RFC 9110 §10.2.3).
 * Returns milliseconds (≥ 0), or undefined when the header is missing or unreadable.
 *
 * @example
 * ```ts
 * parseRetryAfter('5'); // 5000
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT'); // ms until then, 0 if past
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * How long to wait before retry number `attempt` (0-based). With a Retry-After the server's figure
 * is a floor and a little jitter spreads clients that were refused together; without one, the wait
 * is exponential with full jitter in its upper half. Both are capped at 60 s.
 */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, baseMs: number, random = Math.random): number {
  if (retryAfterMs !== undefined) {
    const jitter = random() * Math.min(1000, retryAfterMs * 0.2 + 100);
    return Math.min(MAX_RETRY_DELAY_MS, retryAfterMs + jitter);
  }
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
