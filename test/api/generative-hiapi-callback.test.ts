import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamCallbackUrl } from '../../src/providers/hiapi/callback.js';
import { signCallback } from '../../src/sdk/callbacks.js';
import { driftFor, repaintLayout } from '../fakes/layout-painter.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { freePort } from '../helpers/free-port.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startFakeHiapi, type FakeHiapi } from '../sdk/fake-hiapi.js';

/**
 * hiapi's final callback (contract §9) through the real server and a fake hiapi on loopback that runs
 * tasks in time and POSTs real (signed) callbacks when they end:
 * - with RESHOOT_PUBLIC_URL the upstream create carries `callback: { url, when: "final" }` naming
 *   `/upstream/hiapi/callback/<our task id>?t=<token>`; the upstream is polled only as a safety net
 *   (RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS), and the callback wakes the poller for one GET at once;
 * - a forged callback (wrong token, bad or missing signature, a stale timestamp) is 401 in the
 *   envelope and wakes nothing; a duplicate (or concurrent) one is 200 and a no-op;
 * - a callback that never comes: the safety poll still finishes the task;
 * - without RESHOOT_PUBLIC_URL nothing changes: no callback field, polling as before.
 */

const SECRET = 'whsec-upstream-0123456789abcdef';
/** the quick server's signing secret, so the test can make its callback tokens */
const SIGNING = 'signing-secret-for-callback-tokens';
/** signed fake, server with the webhook secret and a safety poll far longer than any test */
let signed: FakeHiapi;
let secured: TestServer;
/** unsigned fake, server without a secret and a short safety poll; the plain server has no RESHOOT_PUBLIC_URL */
let unsigned: FakeHiapi;
let quick: TestServer;
let plain: TestServer;
let product: string;

const paint = async ({ input, refs }: { input: Record<string, unknown>; refs: Buffer[] }) => repaintLayout(refs[0]!, driftFor(String(input.prompt)));
const upstreamEnv = (fake: FakeHiapi) => ({
  RESHOOT_HIAPI_UPSTREAM_URL: fake.url,
  RESHOOT_HIAPI_UPSTREAM_KEY: fake.apiKey,
  RESHOOT_UPSTREAM_POLL_MS: '50',
  RESHOOT_UPSTREAM_RETRY_BASE_MS: '20',
});
async function reachable(env: Record<string, string>): Promise<TestServer> {
  const port = await freePort();
  return startTestServer({ ...env, RESHOOT_PORT: String(port), RESHOOT_PUBLIC_URL: `http://127.0.0.1:${port}` });
}

beforeAll(async () => {
  signed = await startFakeHiapi({ fetchInputs: true, paint, webhookSecret: SECRET, runMs: 200, callbackRetryMs: [200, 400, 800] });
  unsigned = await startFakeHiapi({ fetchInputs: true, paint, runMs: 200, callbackRetryMs: [200, 400, 800] });
  secured = await reachable({ ...upstreamEnv(signed), RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET: SECRET, RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS: '600000' });
  quick = await reachable({ ...upstreamEnv(unsigned), RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS: '1500', RESHOOT_SIGNING_SECRET: SIGNING });
  plain = await startTestServer(upstreamEnv(unsigned));
  product = await productDataUri();
}, 60_000);
afterAll(async () => {
  await Promise.all([secured?.close(), quick?.close(), plain?.close()]);
  await Promise.all([signed?.close(), unsigned?.close()]);
});

const input = (prompt: string) => ({ prompt, input_urls: [product], aspect_ratio: '1:1', resolution: '1K', seed: 11 });

/** Creates a hiapi-route task; once the upstream has created its task: ours, the upstream's id, the create body it got. */
async function start(server: TestServer, fake: FakeHiapi, prompt: string) {
  const api = apiClient(server);
  const created = await api.post('/v1/tasks', { model: MODEL, route: 'hiapi', input: input(prompt) });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const taskId = created.body.data.taskId as string;
  const t0 = Date.now();
  for (;;) {
    const post = fake.requests.find((r) => r.method === 'POST' && r.path === '/v1/tasks' && r.body.includes(prompt));
    const upstream = (await api.get(`/v1/tasks/${taskId}`)).body.data?.reshoot?.upstream?.taskId as string | undefined;
    if (post && upstream) return { api, taskId, upstream, body: JSON.parse(post.body) as { callback?: { url: string; when: string } } };
    if (Date.now() - t0 > 60_000) throw new Error('the upstream was never asked');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The bare task object hiapi would post for an upstream task, and its signature headers under `secret`. */
function callbackFor(upstream: string, secret?: string, at = Math.floor(Date.now() / 1000)) {
  const body = JSON.stringify({ taskId: upstream, model: MODEL, status: 'success', created: at - 5, completed: at, output: [{ url: 'https://cdn.example.com/forged.png', type: 'image', expireAt: at + 3600 }] });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret) {
    headers['x-hiapi-timestamp'] = String(at);
    headers['x-hiapi-signature'] = signCallback(body, String(at), secret);
  }
  return { body, headers };
}
const post = (url: string, c: { body: string; headers: Record<string, string> }) => fetch(url, { method: 'POST', body: c.body, headers: c.headers });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hiapi upstream: its callback instead of only polling', () => {
  it('the task finishes from the signed callback, the upstream polled twice (after the create, after the callback), the safety poll never due', async () => {
    const t0 = Date.now();
    const { api, taskId, upstream, body } = await start(secured, signed, 'on an oak table, called back');
    expect(body.callback?.url).toMatch(new RegExp(`^${secured.url}/upstream/hiapi/callback/${taskId}\\?t=[\\w-]{43}$`));
    expect(body.callback?.when).toBe('final');
    const { task } = await api.wait(taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    // the safety poll is 10 minutes: only the callback can have finished it this soon
    expect(Date.now() - t0).toBeLessThan(120_000);
    expect(signed.polls(upstream)).toBeLessThanOrEqual(2);
    expect(task.reshoot.upstream).toMatchObject({ engine: 'hiapi', taskId: upstream, callback: 'received' });
    expect(task.reshoot.lock).toMatchObject({ mode: 'strict', found: true });
    // hiapi's callback was signed and answered 2xx at the first attempt
    const sent = signed.callbacks.filter((c) => c.taskId === upstream);
    expect(sent.map((c) => [c.attempt, c.status])).toEqual([[1, 200]]);
    expect(sent[0]!.headers['x-hiapi-signature']).toMatch(/^[0-9a-f]{64}$/);
    // a late duplicate for a finished task: 2xx, nothing to do
    const again = await post(body.callback!.url, callbackFor(upstream, SECRET));
    expect(again.status).toBe(200);
    expect(((await again.json()) as { data: { outcome: string } }).data.outcome).toBe('finished');
  }, 150_000);

  it('forged callbacks (wrong token, missing or bad signature, stale timestamp) are 401 and wake nothing; the real one, twice at once, wakes the poller once', async () => {
    signed.holdCallbacks(true);
    try {
      const { api, taskId, upstream, body } = await start(secured, signed, 'on slate, forged callbacks');
      const url = body.callback!.url;
      // the upstream task is final (runMs) while its callback is held: only a wake gets it polled again
      await sleep(1500);
      const before = signed.polls(upstream);
      const forged = [
        post(url.replace(/t=[\w-]+/, 't=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), callbackFor(upstream, SECRET)),
        post(url.replace(/\?t=.*$/, ''), callbackFor(upstream, SECRET)),
        post(url.replace(taskId, `${taskId.slice(0, -1)}0`), callbackFor(upstream, SECRET)),
        post(url, callbackFor(upstream)),
        post(url, callbackFor(upstream, 'whsec-someone-else-0123456789')),
        post(url, callbackFor(upstream, SECRET, Math.floor(Date.now() / 1000) - 301)),
      ];
      for (const res of await Promise.all(forged)) {
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ code: 401, data: null, error_code: 'UNAUTHORIZED' });
      }
      await sleep(2500); // past the worker's store check (1 s)
      expect(signed.polls(upstream), 'a forged callback woke the poller').toBe(before);
      expect((await api.get(`/v1/tasks/${taskId}`)).body.data.status).toBe('handling');

      // the real callback delivered twice at once: one is taken, the other is a no-op
      const real = callbackFor(upstream, SECRET);
      const answers = await Promise.all([post(url, real), post(url, real)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
      const outcomes = await Promise.all(answers.map(async (r) => ((await r.json()) as { data: { outcome: string } }).data.outcome));
      expect(outcomes.sort()).toEqual(['accepted', 'duplicate']);
      const { task } = await api.wait(taskId);
      expect(task.status, JSON.stringify(task.error)).toBe('success');
      expect(task.reshoot.upstream.callback).toBe('received');
      expect(signed.polls(upstream) - before).toBe(1);
    } finally {
      signed.holdCallbacks(false);
    }
  }, 150_000);

  it('without a webhook secret the token alone guards the route: a wrong token is 401; an unknown task with its own token is 404', async () => {
    const { api, taskId, upstream, body } = await start(quick, unsigned, 'on linen, unsigned');
    expect(body.callback!.url).toBe(upstreamCallbackUrl(quick.url, SIGNING, taskId));
    const wrong = await post(body.callback!.url.replace(/t=[\w-]+/, 't=forged'), callbackFor(upstream));
    expect(wrong.status).toBe(401);
    const { task } = await api.wait(taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    // the fake's own unsigned callback did it
    expect(task.reshoot.upstream.callback).toBe('received');
    expect(unsigned.callbacks.find((c) => c.taskId === upstream)).toMatchObject({ attempt: 1, status: 200 });
    expect(unsigned.callbacks.find((c) => c.taskId === upstream)!.headers).not.toHaveProperty('x-hiapi-signature');
    const unknown = await post(upstreamCallbackUrl(quick.url, SIGNING, 'tk-no-such-task'), callbackFor(upstream));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 404, error_code: 'NOT_FOUND' });
    // the route is public, so it is in the OpenAPI document
    const doc = (await (await fetch(`${quick.url}/openapi.json`)).json()) as { paths: Record<string, { post?: { security?: unknown[] } }> };
    expect(doc.paths['/upstream/hiapi/callback/{taskId}']?.post?.security).toEqual([]);
  }, 150_000);

  it('a callback that never comes: the safety poll (RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS) still finishes the task', async () => {
    unsigned.holdCallbacks(true);
    try {
      const { api, taskId, upstream } = await start(quick, unsigned, 'on terracotta, no callback');
      const { task } = await api.wait(taskId);
      expect(task.status, JSON.stringify(task.error)).toBe('success');
      expect(task.reshoot.upstream).toMatchObject({ taskId: upstream, callback: 'asked' });
      expect(unsigned.callbacks.some((c) => c.taskId === upstream)).toBe(false);
      expect(unsigned.polls(upstream)).toBeGreaterThanOrEqual(2);
    } finally {
      unsigned.holdCallbacks(false);
    }
  }, 150_000);

  it('without RESHOOT_PUBLIC_URL nothing changes: no callback field, polled every RESHOOT_UPSTREAM_POLL_MS, nothing reported', async () => {
    const { api, taskId, upstream, body } = await start(plain, unsigned, 'on birch, polled');
    expect(body).not.toHaveProperty('callback');
    const { task } = await api.wait(taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(task.reshoot.upstream).not.toHaveProperty('callback');
    expect(unsigned.callbacks.some((c) => c.taskId === upstream)).toBe(false);
    // the fake moves one status per GET without a callback: queued → handling → archiving → success
    expect(unsigned.polls(upstream)).toBe(4);
    // the route is there (the hiapi engine is configured) but takes only the tokens it hands out
    const res = await post(`${plain.url}/upstream/hiapi/callback/${taskId}?t=x`, callbackFor(upstream));
    expect(res.status).toBe(401);
  }, 150_000);
});
