import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiter } from '../../src/api/rate-limit-redis.js';
import { redisConnection } from '../../src/queue/bullmq/bullmq-queue.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { redisUnavailable, startRedis, type TestRedis } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Rate limits counted in Redis hold across API nodes (RESHOOT_QUEUE_URL names the Redis).
describe.skipIf(redisUnavailable !== null)('rate limits shared through Redis', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.stop());

  const limits = { createPerMinute: 3, readPerMinute: 100, concurrent: 2 };

  it('two limiters (two nodes) share one key\'s window and its in-flight cap', async () => {
    const a = createRedisRateLimiter(limits, redisConnection(redis.url), { prefix: 't1' });
    const b = createRedisRateLimiter(limits, redisConnection(redis.url), { prefix: 't1' });
    try {
      const now = Date.UTC(2026, 0, 1, 12, 0, 10);
      expect((await a.take('key_1', 'create', now)).remaining).toBe(2);
      expect((await b.take('key_1', 'create', now)).remaining).toBe(1);
      expect((await a.take('key_1', 'create', now)).remaining).toBe(0);
      await expect(b.take('key_1', 'create', now)).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfter: 50 });
      // another key, another budget and the next minute are counted apart
      expect((await b.take('key_2', 'create', now)).remaining).toBe(2);
      expect((await b.take('key_1', 'read', now)).remaining).toBe(99);
      expect((await b.take('key_1', 'create', now + 60_000)).remaining).toBe(2);

      const r1 = await a.enter('key_1');
      const r2 = await b.enter('key_1');
      await expect(a.enter('key_1')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      r1();
      r1(); // a second release changes nothing
      await new Promise((r) => setTimeout(r, 50));
      const r3 = await a.enter('key_1');
      await expect(b.enter('key_1')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      r2();
      r3();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets requests through, and says why, while Redis cannot be reached', async () => {
    const errors: unknown[] = [];
    const down = createRedisRateLimiter(limits, { ...redisConnection('redis://127.0.0.1:1'), retryStrategy: () => null }, { onError: (e) => errors.push(e) });
    try {
      for (let i = 0; i < 5; i++) expect((await down.take('key_1', 'create')).remaining).toBe(3);
      const release = await down.enter('key_1');
      release();
      expect(errors.length).toBeGreaterThanOrEqual(6);
    } finally {
      await down.close();
    }
  });

  describe.skipIf(postgresUnavailable !== null)('two API nodes', () => {
    let cluster: TestPostgres;
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      cluster = await startPostgres();
      const env = { RESHOOT_DATABASE_URL: await cluster.createDatabase(), RESHOOT_QUEUE_URL: redis.url, RESHOOT_API_KEYS: 'sk-test-rl-owner', RESHOOT_ROLE: 'api', RESHOOT_RATE_LIMIT: 'create=3,read=300,concurrent=10' };
      a = await startTestServer(env);
      b = await startTestServer(env);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await cluster?.stop();
    });

    it('the create budget is one budget across both nodes', async () => {
      const body = { model: MODEL, input: { prompt: 'on white', input_urls: ['https://example.com/p.jpg'] } };
      // stay inside one minute window: the budget is per minute
      const secs = new Date().getUTCSeconds();
      if (secs > 50) await new Promise((r) => setTimeout(r, (61 - secs) * 1000));
      const answers = [await apiClient(a).post('/v1/tasks', body), await apiClient(b).post('/v1/tasks', body), await apiClient(a).post('/v1/tasks', body), await apiClient(b).post('/v1/tasks', body)];
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(answers.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
      expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(answers[3]!.body.error_code).toBe('RATE_LIMITED');
    });
  });
});
