import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { apiClient, MODEL } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// 429 and 503 refuse before any work: nothing is created or charged (contract §7.4, D13).
let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const body = { model: MODEL, input: { prompt: 'on slate', input_urls: ['https://example.com/p.jpg'] } };

/** Asks GET /v1/tasks until it answers `status` (the server has taken or let go of requests in flight). */
async function readUntil(api: ReturnType<typeof apiClient>, status: number, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api.get('/v1/tasks');
    if (r.status === status) return r;
    if (Date.now() > end) throw new Error(`GET /v1/tasks still ${r.status}, not ${status}, after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('rate limits', () => {
  it('sends X-RateLimit-* on /v1 responses and 429 with Retry-After past the create budget', async () => {
    server = await startTestServer({ RESHOOT_ROLE: 'api', RESHOOT_RATE_LIMIT: 'create=3,read=100,concurrent=10' });
    const api = apiClient(server);
    for (let i = 0; i < 3; i++) {
      const r = await api.post('/v1/tasks', body);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-ratelimit-limit')).toBe('3');
      expect(r.headers.get('x-ratelimit-remaining')).toBe(String(2 - i));
      expect(Number(r.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    }
    const refused = await api.post('/v1/tasks', body);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 429, data: null, error_code: 'RATE_LIMITED' });
    const retry = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retry) && retry >= 1 && retry <= 60).toBe(true);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    // Reads have their own, looser budget: polling still works, and shows only three tasks.
    const list = await api.get('/v1/tasks');
    expect(list.status).toBe(200);
    expect(list.headers.get('x-ratelimit-limit')).toBe('100');
    expect(list.body.data.total).toBe(3);
    // A 401 carries them too (D13: every /v1 answer), with the budget a caller without a key has.
    const anon = await fetch(`${server.url}/v1/tasks`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('x-ratelimit-limit')).toBe('100');
    expect(anon.headers.get('x-ratelimit-remaining')).toBe('100');
    expect(Number(anon.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
  });

  it('limits requests in flight per key', async () => {
    server = await startTestServer({ RESHOOT_ROLE: 'api', RESHOOT_RATE_LIMIT: 'create=1000,read=1000,concurrent=2' });
    const api = apiClient(server);
    // Two uploads whose bodies trickle in hold both slots while they last.
    const { port } = new URL(server.url);
    const slow = [0, 1].map(
      () =>
        new Promise<http.ClientRequest>((resolve) => {
          const req = http.request({ host: '127.0.0.1', port, path: '/v1/uploads', method: 'POST', headers: { authorization: `Bearer ${server!.apiKey}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': '100000' } });
          req.on('error', () => {});
          req.write('--x\r\n');
          req.flushHeaders();
          resolve(req);
        }),
    );
    const held = await Promise.all(slow);
    // both slots are held once the server has the two requests' headers
    const refused = await readUntil(api, 429);
    expect(refused.status).toBe(429);
    expect(refused.body.error_code).toBe('RATE_LIMITED');
    expect(refused.headers.get('retry-after')).toBe('1');
    for (const req of held) req.destroy();
    // Once they are gone, the slots are free again.
    expect((await readUntil(api, 200)).status).toBe(200);
  });

  it('can be turned off', async () => {
    server = await startTestServer({ RESHOOT_ROLE: 'api', RESHOOT_RATE_LIMIT: 'off' });
    const r = await apiClient(server).get('/v1/tasks');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-ratelimit-limit')).toBeNull();
  });
});

describe('queue full', () => {
  it('answers 503 with Retry-After and creates nothing', async () => {
    server = await startTestServer({ RESHOOT_ROLE: 'api', RESHOOT_QUEUE_MAX_DEPTH: '2' });
    const api = apiClient(server);
    expect((await api.post('/v1/tasks', body)).status).toBe(200);
    expect((await api.post('/v1/tasks', body)).status).toBe(200);
    const full = await api.post('/v1/tasks', body, { 'idempotency-key': 'full-1' });
    expect(full.status).toBe(503);
    expect(full.body).toMatchObject({ code: 503, data: null, error_code: 'SERVICE_UNAVAILABLE' });
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await api.get('/v1/tasks')).body.data.total).toBe(2);
    // The refused request did not use up its idempotency key: once there is room it goes through.
    expect(full.headers.get('idempotent-replay')).toBeNull();
  });
});
