import { describe, expect, it } from 'vitest';
import { MAX_RETRY_DELAY_MS, parseRetryAfter, retryDelay } from './retry.js';

describe('parseRetryAfter', () => {
  it('reads integer seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 09:59:00 GMT', now)).toBe(0);
  });
  it('ignores missing or unreadable values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-3')).toBeUndefined();
  });
});

describe('retryDelay', () => {
  it('waits at least Retry-After, with jitter, capped at 60 s', () => {
    expect(retryDelay(0, 5000, 500, () => 0)).toBe(5000);
    const high = retryDelay(0, 5000, 500, () => 0.999);
    expect(high).toBeGreaterThan(5000);
    expect(high).toBeLessThanOrEqual(6000);
    expect(retryDelay(0, 3_600_000, 500, () => 0.5)).toBe(MAX_RETRY_DELAY_MS);
  });
  it('backs off exponentially with jitter when the server gave no figure', () => {
    expect(retryDelay(0, undefined, 500, () => 0)).toBe(250);
    expect(retryDelay(0, undefined, 500, () => 1)).toBe(500);
    expect(retryDelay(3, undefined, 500, () => 1)).toBe(4000);
    expect(retryDelay(20, undefined, 500, () => 1)).toBe(MAX_RETRY_DELAY_MS);
  });
});
