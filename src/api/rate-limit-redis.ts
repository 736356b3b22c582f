import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { RateLimits } from '../config.js';
import { AppError } from '../errors.js';
import type { Budget, RateDecision, RateLimiter } from './rate-limit.js';

/**
 * The rate limits of `rate-limit.ts` counted in Redis, so they hold across API nodes: per-key fixed
 * one-minute windows (one counter per key, budget and minute, expiring after two) and the cap on
 * requests in flight (a sorted set per key of the requests running, by start time; an entry a dead
 * node left behind drops out after a minute). While Redis cannot answer, requests are let through
 * and `onError` hears why: an outage of the limiter does not become an outage of the API.
 */
export function createRedisRateLimiter(
  limits: RateLimits,
  redisOptions: RedisOptions,
  opts: { prefix?: string; onError?: (err: unknown) => void } = {},
): RateLimiter & { close(): Promise<void> } {
  const redis = new Redis({ ...redisOptions, maxRetriesPerRequest: 1, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', () => {}); // reported per command through onError
  const prefix = opts.prefix ?? 'reshoot:rl';
  const failOpen = (err: unknown) => opts.onError?.(err);

  return {
    async take(keyId: string, budget: Budget, nowMs = Date.now()): Promise<RateDecision> {
      const limit = budget === 'create' ? limits.createPerMinute : limits.readPerMinute;
      const window = Math.floor(nowMs / 60_000);
      const reset = (window + 1) * 60;
      const key = `${prefix}:${budget}:${keyId}:${window}`;
      let count: number;
      try {
        const res = await redis.multi().incr(key).expire(key, 120).exec();
        count = Number(res?.[0]?.[1] ?? 0);
      } catch (err) {
        failOpen(err);
        return { limit, remaining: limit, reset };
      }
      if (count > limit) {
        throw new AppError('RATE_LIMITED', `rate limit exceeded: ${limit} ${budget === 'create' ? 'task creations' : 'requests'} per minute for this key`, {
          retryAfter: Math.max(1, reset - Math.floor(nowMs / 1000)),
        });
      }
      return { limit, remaining: limit - count, reset };
    },
    async enter(keyId: string): Promise<() => void> {
      const key = `${prefix}:inflight:${keyId}`;
      const member = randomBytes(8).toString('hex');
      const now = Date.now();
      let running: number;
      try {
        const res = await redis.multi().zremrangebyscore(key, 0, now - 60_000).zadd(key, now, member).zcard(key).pexpire(key, 120_000).exec();
        running = Number(res?.[2]?.[1] ?? 0);
      } catch (err) {
        failOpen(err);
        return () => {};
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        redis.zrem(key, member).catch(failOpen);
      };
      if (running > limits.concurrent) {
        release();
        throw new AppError('RATE_LIMITED', `too many concurrent requests: at most ${limits.concurrent} in flight for this key`, { retryAfter: 1 });
      }
      return release;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
