import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/sdk/index.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startFakeHiapi, type FakeHiapi } from '../sdk/fake-hiapi.js';

/**
 * Which routes a server accepts, as clients learn them: GET /v1/models carries them on every model
 * (hiapi's array shape kept), /openapi.json lists only them for `route`, and the SDK reads them. Two
 * real servers: the default one (the studio only) and one with a hiapi upstream configured (a fake
 * hiapi on loopback; nothing is rendered here).
 */

let hiapi: FakeHiapi;
let plain: TestServer;
let routed: TestServer;

beforeAll(async () => {
  hiapi = await startFakeHiapi({ paint: async () => { throw new Error('nothing is rendered in this test'); } });
  [plain, routed] = await Promise.all([
    startTestServer(),
    startTestServer({ RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url, RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([plain?.close(), routed?.close()]);
  await hiapi?.close();
});

type RouteSchema = { enum: string[] };
/** The `route` enum of every create body in an OpenAPI document. */
function routeEnums(doc: any): string[][] {
  const bodies = doc.paths['/v1/tasks'].post.requestBody.content['application/json'].schema.oneOf as Array<{ properties: { route: RouteSchema } }>;
  return bodies.map((b) => b.properties.route.enum);
}

describe('the routes a server accepts', () => {
  it('GET /v1/models lists them on every model, beside hiapi\'s fields', async () => {
    for (const [server, routes] of [[plain, ['default', 'studio']], [routed, ['default', 'studio', 'hiapi']]] as const) {
      const r = await apiClient(server).get('/v1/models');
      expect(r.status).toBe(200);
      expect(Array.isArray(r.body.data)).toBe(true);
      for (const m of r.body.data) {
        expect(m).toMatchObject({ category: 'image', output_type: 'image', supported_endpoint_types: ['task'], routes, default_engine: 'studio' });
      }
    }
  });

  it('/openapi.json offers only the configured routes for `route`', async () => {
    const plainDoc = await (await fetch(`${plain.url}/openapi.json`)).json();
    const routedDoc = await (await fetch(`${routed.url}/openapi.json`)).json();
    for (const e of routeEnums(plainDoc)) expect(e).toEqual(['default', 'studio', '']);
    for (const e of routeEnums(routedDoc)) expect(e).toEqual(['default', 'studio', 'hiapi', '']);
    // the models answer is described with its routes
    const models = routedDoc.paths['/v1/models'].get.responses['200'].content['application/json'].schema.properties.data.items;
    expect(Object.keys(models.properties)).toEqual(expect.arrayContaining(['id', 'routes', 'default_engine']));
    // the page at /docs/api says the same
    const page = await (await fetch(`${routed.url}/docs/api`)).text();
    expect(page).toContain('&quot;default&quot;, &quot;studio&quot;, &quot;hiapi&quot;, &quot;&quot;');
    expect(page).not.toContain('&quot;comfyui&quot;, &quot;&quot;');
  });

  it('the SDK reads them, and a route it lists is accepted where one it does not is refused', async () => {
    const client = new Client({ baseUrl: routed.url, apiKey: routed.apiKey, maxRetries: 0 });
    expect(await client.routes()).toEqual({ routes: ['default', 'studio', 'hiapi'], defaultEngine: 'studio' });
    expect(await new Client({ baseUrl: plain.url, apiKey: plain.apiKey }).routes()).toEqual({ routes: ['default', 'studio'], defaultEngine: 'studio' });
    const refused = await apiClient(plain).post('/v1/tasks', { model: MODEL, route: 'hiapi', input: { prompt: 'x', input_urls: ['https://example.com/a.png'] } });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('valid routes: default, studio');
  });
});
