import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { priceFor } from '../../src/contract/pricing.js';
import { KEEP_PRODUCT } from '../../src/providers/hiapi/index.js';
import { startPaintingHiapi } from '../fakes/layout-painter.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { FakeHiapi } from '../sdk/fake-hiapi.js';

/**
 * What a generative route costs, through the real server with a fake hiapi upstream on loopback:
 * the upstream's price (RESHOOT_HIAPI_UPSTREAM_PRICE) plus RESHOOT_UPSTREAM_MARGIN is the task's
 * price, served as a `model@hiapi` row at /api/pricing (what the CLI and the studio quote from),
 * reserved against the key's budget at create (402 past it, nothing sent upstream), refunded when the
 * task fails, and reported per engine in /v1/usage with the upstream's part.
 */

const UPSTREAM_USD = 0.05;
const CHARGED_USD = 0.06; // 0.05 and a 20% margin
const FAILING = 'on a slate shelf FAIL';

let hiapi: FakeHiapi;
let server: TestServer;
let product: string;

beforeAll(async () => {
  hiapi = await startPaintingHiapi();
  // the failing upstream task paints for 40 polls first, so a second create meets its reservation
  hiapi.script(`${FAILING}\n\n${KEEP_PRODUCT}`, [...Array<string>(40).fill('handling'), 'fail']);
  server = await startTestServer({
    RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url,
    RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey,
    RESHOOT_HIAPI_UPSTREAM_PRICE: String(UPSTREAM_USD),
    RESHOOT_UPSTREAM_MARGIN: '0.2',
    RESHOOT_UPSTREAM_POLL_MS: '50',
    RESHOOT_UPSTREAM_RETRY_BASE_MS: '20',
  });
  product = await productDataUri();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await hiapi?.close();
});

describe('generative cost', () => {
  it('charges the upstream price plus the margin against the budget, refunds a failure, and reports it per engine', async () => {
    const input = (prompt: string) => ({ prompt, input_urls: [product], aspect_ratio: '1:1', resolution: '1K' });
    const body = (prompt: string) => ({ model: MODEL, route: 'hiapi', input: input(prompt) });

    // the quote: the served rows price the route as the server charges it
    const rows = (await apiClient(server).get('/api/pricing')).body.data;
    expect(rows.find((r: { model_name: string }) => r.model_name === `${MODEL}@hiapi`)).toMatchObject({ base_usd_value: CHARGED_USD, base_display_unit: 'image' });
    expect(priceFor(rows, MODEL, input('x'), 'hiapi')).toBe(CHARGED_USD);
    expect(priceFor(rows, MODEL, input('x'))).toBe(0);

    const { key } = await server.reshoot.keys.create('generative budget', { budgetUsd: 0.1 });
    const api = apiClient(server, key);
    const failing = await api.post('/v1/tasks', body(FAILING));
    expect(failing.status, JSON.stringify(failing.body)).toBe(200);
    // $0.06 reserved of $0.10: a second one does not fit while the first is running, and the upstream never hears of it
    const refused = await api.post('/v1/tasks', body('on an oak table by a sage wall'));
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ code: 402, data: null, error_code: 'INSUFFICIENT_BALANCE' });
    expect(refused.body.message).toContain('this task costs $0.06');
    // the running task carries its reservation
    const running = await api.get(`/v1/tasks/${failing.body.data.taskId}`);
    expect(running.body.data.reshoot.cost).toEqual({ usd: CHARGED_USD, model: MODEL, engine: 'hiapi', upstreamUsd: UPSTREAM_USD });

    const failed = (await api.wait(failing.body.data.taskId)).task;
    expect(failed.status).toBe('fail');
    expect(failed.error.message).toMatch(/upstream hiapi failed the task/);
    expect(failed.reshoot.cost).toEqual({ usd: 0, model: MODEL, engine: 'hiapi', upstreamUsd: 0 });

    // refunded: the same create fits now
    const good = await api.post('/v1/tasks', body('on an oak table by a sage wall'));
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    const done = (await api.wait(good.body.data.taskId)).task;
    expect(done.status, JSON.stringify(done.error)).toBe('success');
    expect(done.reshoot.cost).toEqual({ usd: CHARGED_USD, model: MODEL, engine: 'hiapi', upstreamUsd: UPSTREAM_USD });
    expect((await api.post('/v1/tasks', body('on a linen cloth'))).status).toBe(402);
    expect(hiapi.created()).toBe(2);

    const usage = (await api.get('/v1/usage')).body.data;
    expect(usage.total).toEqual({ tasks: 2, usd: CHARGED_USD });
    expect(usage.days).toEqual([{ day: new Date().toISOString().slice(0, 10), model: MODEL, tasks: 2, succeeded: 1, failed: 1, usd: CHARGED_USD }]);
    expect(usage.engines).toEqual([{ engine: 'hiapi', tasks: 2, succeeded: 1, failed: 1, usd: CHARGED_USD, upstream_usd: UPSTREAM_USD }]);
  }, 120_000);
});
