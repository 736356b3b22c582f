import type { RateLimits } from '../config.js';
import { AppError } from '../errors.js';

export type Budget = 'create' | 'read';

export interface RateDecision {
  limit: number;
  remaining: number;
  /** Unix seconds when the window resets */
  reset: number;
}

export interface RateLimiter {
  /** counts one request against the key's budget; throws RATE_LIMITED (with Retry-After) when spent */
  take(keyId: string, budget: Budget, nowMs?: number): RateDecision | Promise<RateDecision>;
  /** marks a request in flight; returns the release function; throws RATE_LIMITED over the cap */
  enter(keyId: string): (() => void) | Promise<() => void>;
}

/**
 * Per-key fixed one-minute windows, one budget for creates and a looser one for reads (D13), plus a
 * cap on requests in flight. In-process: with several API processes each enforces its own share
 * (rate-limit-redis.ts counts them in Redis instead, when RESHOOT_QUEUE_URL names one).
 */
export function createRateLimiter(limits: RateLimits): RateLimiter {
  const windows = new Map<string, { window: number; count: number }>();
  const inFlight = new Map<string, number>();
  return {
    take(keyId, budget, nowMs = Date.now()) {
      const limit = budget === 'create' ? limits.createPerMinute : limits.readPerMinute;
      const window = Math.floor(nowMs / 60_000);
      const id = `${budget}:${keyId}`;
      let w = windows.get(id);
      if (!w || w.window !== window) {
        if (windows.size > 50_000) windows.clear();
        w = { window, count: 0 };
        windows.set(id, w);
      }
      const reset = (window + 1) * 60;
      if (w.count >= limit) {
        throw new AppError('RATE_LIMITED', `rate limit exceeded: ${limit} ${budget === 'create' ? 'task creations' : 'requests'} per minute for this key`, {
          retryAfter: Math.max(1, reset - Math.floor(nowMs / 1000)),
        });
      }
      w.count++;
      return { limit, remaining: limit - w.count, reset };
    },
    enter(keyId) {
      const n = inFlight.get(keyId) ?? 0;
      if (n >= limits.concurrent) {
        throw new AppError('RATE_LIMITED', `too many concurrent requests: at most ${limits.concurrent} in flight for this key`, { retryAfter: 1 });
      }
      inFlight.set(keyId, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (inFlight.get(keyId) ?? 1) - 1;
        if (left <= 0) inFlight.delete(keyId);
        else inFlight.set(keyId, left);
      };
    },
  };
}
