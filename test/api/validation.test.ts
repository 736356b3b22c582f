import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { MODEL, PRO } from '../helpers/api.js';

// Create-time validation (contract §3, D1-D3, D6, D12, D15): every rule, answered in-process.
let server: TestServer;
let app: FastifyInstance;
const URL1 = 'https://example.com/p.jpg';

beforeAll(async () => {
  // role api: no worker, so created tasks simply stay queued.
  server = await startTestServer({ RESHOOT_ROLE: 'api', RESHOOT_BODY_LIMIT_BYTES: String(128 * 1024) });
  app = server.reshoot.app!;
});
afterAll(() => server.close());

async function create(body: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/tasks',
    headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

const input = (over: Record<string, unknown> = {}) => ({ prompt: 'on slate', input_urls: [URL1], ...over });

async function expectInvalid(body: unknown, field: string, ...mentions: string[]) {
  const r = await create(body);
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(Object.keys(r.body).sort()).toEqual(['code', 'data', 'error_code', 'message']);
  expect(r.body).toMatchObject({ code: 400, data: null, error_code: 'INVALID_REQUEST' });
  expect(r.body.message.startsWith(`${field}:`), r.body.message).toBe(true);
  for (const m of mentions) expect(r.body.message).toContain(m);
}

describe('POST /v1/tasks validation', () => {
  it('accepts a minimal valid body and answers with a tk-hiapi- ULID', async () => {
    const r = await create({ model: MODEL, input: input() });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['code', 'data', 'message']);
    expect(r.body.code).toBe(200);
    expect(r.body.message).toBe('success');
    expect(r.body.data.taskId).toMatch(/^tk-hiapi-[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.body.data.taskId).toHaveLength(35);
  });

  it('requires model and names the served models for an unknown one', async () => {
    await expectInvalid({ input: input() }, 'model', MODEL, PRO);
    await expectInvalid({ model: 'dall-e-3', input: input() }, 'model', 'dall-e-3', MODEL, PRO, 'gpt-image-2/image-to-image');
  });

  it('accepts the slashed model name and applies its own rules', async () => {
    expect((await create({ model: 'gpt-image-2/image-to-image', input: input({ aspect_ratio: '1:1', resolution: '4K' }) })).status).toBe(200);
    await expectInvalid({ model: 'gpt-image-2/image-to-image', input: input({ aspect_ratio: '4:5', resolution: '2K' }) }, 'input.resolution', '4:5');
    await expectInvalid({ model: 'gpt-image-2/image-to-image', input: input({ aspect_ratio: '3:1', resolution: '4K' }) }, 'input.resolution', '3:1');
    await expectInvalid({ model: 'gpt-image-2/image-to-image', input: input({ aspect_ratio: '1:1', resolution: '2K', background: 'transparent' }) }, 'input.background', '1K');
  });

  it('checks input presence and shape', async () => {
    await expectInvalid({ model: MODEL }, 'input');
    await expectInvalid({ model: MODEL, input: 'x' }, 'input');
    await expectInvalid([1, 2], 'body');
    await expectInvalid({ model: MODEL, input: input({ callback: { url: 'https://h.example/x' } }) }, 'input.callback', 'top level');
  });

  it('checks the prompt: required, not blank, at most 20000 code points', async () => {
    await expectInvalid({ model: MODEL, input: { input_urls: [URL1] } }, 'input.prompt');
    await expectInvalid({ model: MODEL, input: input({ prompt: '' }) }, 'input.prompt', 'empty');
    await expectInvalid({ model: MODEL, input: input({ prompt: ' \n\t ' }) }, 'input.prompt', 'whitespace');
    await expectInvalid({ model: MODEL, input: input({ prompt: 'a'.repeat(20001) }) }, 'input.prompt', '20000');
    // 20000 emoji are 40000 UTF-16 units but 20000 code points: allowed.
    expect((await create({ model: MODEL, input: input({ prompt: '📷'.repeat(20000) }) })).status).toBe(200);
    await expectInvalid({ model: MODEL, input: input({ prompt: '📷'.repeat(20001) }) }, 'input.prompt', '20001');
  });

  it('checks input_urls count per model and URL schemes', async () => {
    await expectInvalid({ model: MODEL, input: input({ input_urls: [] }) }, 'input.input_urls', '1 to 16');
    await expectInvalid({ model: MODEL, input: input({ input_urls: Array(17).fill(URL1) }) }, 'input.input_urls', '1 to 16', '17');
    expect((await create({ model: MODEL, input: input({ input_urls: Array(16).fill(URL1) }) })).status).toBe(200);
    await expectInvalid({ model: PRO, input: input({ input_urls: Array(6).fill(URL1) }) }, 'input.input_urls', '1 to 5');
    expect((await create({ model: PRO, input: input({ input_urls: Array(5).fill(URL1) }) })).status).toBe(200);
    await expectInvalid({ model: MODEL, input: input({ input_urls: 'https://example.com/a.jpg' }) }, 'input.input_urls');
    await expectInvalid({ model: MODEL, input: input({ input_urls: ['ftp://example.com/a.jpg'] }) }, 'input.input_urls[0]', 'http(s)');
    await expectInvalid({ model: MODEL, input: input({ input_urls: [URL1, 'javascript:alert(1)'] }) }, 'input.input_urls[1]');
    await expectInvalid({ model: MODEL, input: input({ input_urls: ['data:text/html;base64,PGI+'] }) }, 'input.input_urls[0]');
    await expectInvalid({ model: MODEL, input: input({ input_urls: [42] }) }, 'input.input_urls[0]');
    expect((await create({ model: MODEL, input: input({ input_urls: ['data:image/png;base64,iVBORw0KGgo='] }) })).status).toBe(200);
  });

  it('checks aspect_ratio and resolution enums per model', async () => {
    await expectInvalid({ model: MODEL, input: input({ aspect_ratio: '7:5' }) }, 'input.aspect_ratio', 'auto, 1:1', '9:21', '"7:5"');
    await expectInvalid({ model: MODEL, input: input({ resolution: '8K', aspect_ratio: '1:1' }) }, 'input.resolution', '1K, 2K, 4K');
    await expectInvalid({ model: PRO, input: input({ aspect_ratio: '2:1' }) }, 'input.aspect_ratio', '21:9');
    for (const r of ['1:2', '3:1', '1:3', '9:21']) await expectInvalid({ model: PRO, input: input({ aspect_ratio: r }) }, 'input.aspect_ratio');
    await expectInvalid({ model: PRO, input: input({ aspect_ratio: '1:1', resolution: '4K' }) }, 'input.resolution', '1K, 2K');
  });

  it('applies the cross-field rules of the non-pro model and not of pro', async () => {
    await expectInvalid({ model: MODEL, input: input({ aspect_ratio: 'auto', resolution: '2K' }) }, 'input.resolution', 'auto', '1K');
    // resolution 2K with aspect_ratio left out: the default auto makes it invalid.
    await expectInvalid({ model: MODEL, input: input({ resolution: '2K' }) }, 'input.resolution', 'defaults to auto');
    await expectInvalid({ model: MODEL, input: input({ aspect_ratio: '1:1', resolution: '4K' }) }, 'input.resolution', '4K', '1:1');
    expect((await create({ model: MODEL, input: input({ aspect_ratio: '16:9', resolution: '4K' }) })).status).toBe(200);
    expect((await create({ model: PRO, input: input({ aspect_ratio: 'auto', resolution: '2K' }) })).status).toBe(200);
    expect((await create({ model: PRO, input: input({ resolution: '2K' }) })).status).toBe(200);
  });

  it('checks our extensions and ignores unknown input fields', async () => {
    expect((await create({ model: MODEL, input: input({ n: 3, quality: 'high', size: '1024x1024' }) })).status).toBe(200);
    expect((await create({ model: MODEL, input: input({ seed: 42, scene: {} }) })).status).toBe(200);
    await expectInvalid({ model: MODEL, input: input({ seed: 1.5 }) }, 'input.seed', 'integer');
    await expectInvalid({ model: MODEL, input: input({ seed: '7' }) }, 'input.seed');
    await expectInvalid({ model: MODEL, input: input({ scene: 'dark' }) }, 'input.scene');
    await expectInvalid({ model: MODEL, input: input({ output_format: 'gif' }) }, 'input.output_format', 'png, jpeg, webp');
    await expectInvalid({ model: MODEL, input: input({ background: 'transparent', output_format: 'jpeg' }) }, 'input.output_format', 'alpha');
    await expectInvalid({ model: PRO, input: input({ roles: ['scenery'] }) }, 'input.roles[0]', 'product, scene, style');
    await expectInvalid({ model: MODEL, input: input({ scene_from: 'task-1' }) }, 'input.scene_from');
  });

  it('checks callback: top level, http(s) url, when final, no private targets', async () => {
    expect((await create({ model: MODEL, input: input(), callback: { url: 'https://hooks.example.com/x', when: 'final' } })).status).toBe(200);
    expect((await create({ model: MODEL, input: input(), callback: { url: 'http://hooks.example.com/x' } })).status).toBe(200);
    await expectInvalid({ model: MODEL, input: input(), callback: { when: 'final' } }, 'callback.url');
    await expectInvalid({ model: MODEL, input: input(), callback: { url: 'mailto:a@b.c' } }, 'callback.url', 'http(s)');
    await expectInvalid({ model: MODEL, input: input(), callback: { url: 'https://h.example/x', when: 'always' } }, 'callback.when', 'final');
    await expectInvalid({ model: MODEL, input: input(), callback: { url: `https://h.example/${'x'.repeat(2048)}` } }, 'callback.url', '2048');
    await expectInvalid({ model: MODEL, input: input(), callback: { url: 'http://127.0.0.1:9/hook' } }, 'callback.url', 'refused');
    await expectInvalid({ model: MODEL, input: input(), callback: { url: 'http://10.1.2.3/hook' } }, 'callback.url', 'refused');
    await expectInvalid({ model: MODEL, input: input(), callback: { url: 'http://[::1]/hook' } }, 'callback.url', 'refused');
    // names are resolved at create: one that points at this host is refused now, not retried later
    await expectInvalid({ model: MODEL, input: input(), callback: { url: 'http://localhost:9/hook' } }, 'callback.url', 'refused', 'localhost resolves to');
    await expectInvalid({ model: MODEL, input: input(), callback: { url: 'http://[2002:7f00:1::]/hook' } }, 'callback.url', 'refused');
  });

  it('accepts route default, empty or absent, and refuses others listing the valid ones', async () => {
    expect((await create({ model: MODEL, input: input(), route: '' })).status).toBe(200);
    const r = await create({ model: MODEL, input: input(), route: 'default' });
    expect(r.status).toBe(200);
    const task = await app.inject({ method: 'GET', url: `/v1/tasks/${r.body.data.taskId}`, headers: { authorization: `Bearer ${server.apiKey}` } });
    expect(task.json().data.model).toBe(`${MODEL}@default`);
    expect(task.json().data.route).toBe('default');
    await expectInvalid({ model: MODEL, input: input(), route: 'pro' }, 'route', 'default');
  });

  it('takes route studio (always configured) and refuses an engine this server has not configured, listing the valid routes', async () => {
    const r = await create({ model: MODEL, input: input(), route: 'studio' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await app.inject({ method: 'GET', url: `/v1/tasks/${r.body.data.taskId}`, headers: { authorization: `Bearer ${server.apiKey}` } });
    expect(task.json().data).toMatchObject({ model: `${MODEL}@studio`, route: 'studio' });
    await expectInvalid({ model: MODEL, input: input(), route: 'hiapi' }, 'route', 'not configured', 'valid routes: default, studio');
    await expectInvalid({ model: `${MODEL}@openai`, input: input() }, 'route', 'not configured', 'default, studio');
  });

  it('checks input.lock: strict, blend or off', async () => {
    expect((await create({ model: MODEL, input: input({ lock: 'blend' }) })).status).toBe(200);
    await expectInvalid({ model: MODEL, input: input({ lock: 'loose' }) }, 'input.lock', 'strict, blend, off');
  });

  it('accepts the legacy model@route spelling as the route, and refuses a contradicting route', async () => {
    const r = await create({ model: `${MODEL}@default`, input: input() });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const task = await app.inject({ method: 'GET', url: `/v1/tasks/${r.body.data.taskId}`, headers: { authorization: `Bearer ${server.apiKey}` } });
    expect(task.json().data).toMatchObject({ model: `${MODEL}@default`, route: 'default' });
    expect((await create({ model: `${PRO}@default`, input: input(), route: 'default' })).status).toBe(200);
    await expectInvalid({ model: `${MODEL}@ext`, input: input() }, 'route', 'ext', 'default');
    await expectInvalid({ model: `${MODEL}@default`, input: input(), route: 'beta' }, 'route', 'contradicts');
    await expectInvalid({ model: 'gpt-image-9@default', input: input() }, 'model', 'gpt-image-9');
  });

  it('reads callback: null as no callback', async () => {
    expect((await create({ model: MODEL, input: input(), callback: null })).status).toBe(200);
  });

  it('storage: persistent is kept while the key has room (D17); other values are refused', async () => {
    const r = await create({ model: MODEL, input: input(), storage: 'persistent' });
    const task = await app.inject({ method: 'GET', url: `/v1/tasks/${r.body.data.taskId}`, headers: { authorization: `Bearer ${server.apiKey}` } });
    expect(task.json().data.storage).toBe('persistent');
    await expectInvalid({ model: MODEL, input: input(), storage: 'forever' }, 'storage');
  });
});

describe('transport errors', () => {
  it('415 for a non-JSON Content-Type; no Content-Type is read as JSON', async () => {
    const r = await create(JSON.stringify({ model: MODEL, input: input() }), { 'content-type': 'text/plain' });
    expect(r.status).toBe(415);
    expect(r.body).toMatchObject({ code: 415, data: null, error_code: 'UNSUPPORTED_MEDIA_TYPE' });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { authorization: `Bearer ${server.apiKey}` },
      payload: Buffer.from(JSON.stringify({ model: MODEL, input: input() })),
    });
    expect(res.statusCode).toBe(200);
    expect((await create(JSON.stringify({ model: MODEL, input: input() }), { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
  });

  it('400 for malformed JSON, 413 over the body limit', async () => {
    const bad = await create('{"model": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_REQUEST');
    const big = await create({ model: MODEL, input: input({ prompt: 'x'.repeat(200 * 1024) }) });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 413, data: null, error_code: 'PAYLOAD_TOO_LARGE' });
  });

  it('415 for a charset other than UTF-8; 400 for bodies nested past the depth limit, at once', async () => {
    const utf16 = await create(JSON.stringify({ model: MODEL, input: input() }), { 'content-type': 'application/json; charset=utf-16' });
    expect(utf16.status).toBe(415);
    expect(utf16.body).toMatchObject({ code: 415, error_code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(utf16.body.message).toContain('utf-16');
    expect((await create(JSON.stringify({ model: MODEL, input: input() }), { 'content-type': 'application/json; charset="UTF-8"' })).status).toBe(200);
    // 60,000 nested arrays in 120 KB, and nested objects inside input.scene
    const arrays = await create('['.repeat(60_000) + ']'.repeat(60_000));
    expect(arrays.status).toBe(400);
    expect(arrays.body.message).toContain('nested more than');
    const scene = `{"model":"${MODEL}","input":{"prompt":"x","input_urls":["${URL1}"],"scene":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`;
    expect((await create(scene)).body.message).toContain('nested more than');
    // a scene at the depth the contract uses is fine
    expect((await create({ model: MODEL, input: input({ scene: { light: { rim: { intensity: 0.5 } } } }) })).status).toBe(200);
  });

  it('answers what the router refuses in the envelope: a bad percent-encoding, an over-long id', async () => {
    const auth = { authorization: `Bearer ${server.apiKey}` };
    const bad = await app.inject({ method: 'GET', url: '/v1/tasks/%zz', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 400, data: null, error_code: 'INVALID_REQUEST' });
    const long = await app.inject({ method: 'GET', url: `/v1/tasks/${'x'.repeat(5000)}`, headers: auth });
    expect(long.statusCode).toBe(404);
    expect(long.json()).toMatchObject({ code: 404, data: null, error_code: 'NOT_FOUND' });
    expect(long.headers['x-request-id']).toBeTruthy();
  });

  it('400 for a multipart upload without a boundary or without its closing boundary', async () => {
    const auth = { authorization: `Bearer ${server.apiKey}` };
    const noBoundary = await app.inject({ method: 'POST', url: '/v1/uploads', headers: { ...auth, 'content-type': 'multipart/form-data' }, payload: 'hello' });
    expect(noBoundary.statusCode).toBe(400);
    expect(noBoundary.json()).toMatchObject({ error_code: 'INVALID_REQUEST' });
    const unclosed = await app.inject({
      method: 'POST',
      url: '/v1/uploads',
      headers: { ...auth, 'content-type': 'multipart/form-data; boundary=xx' },
      payload: '--xx\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabcdef',
    });
    expect(unclosed.statusCode).toBe(400);
    expect(unclosed.json().message).toContain('malformed multipart');
  });

  it('401 without a key or with a wrong one, in the envelope', async () => {
    for (const authorization of [undefined, 'Bearer sk-wrong', 'Basic abc']) {
      const res = await app.inject({ method: 'GET', url: '/v1/tasks', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 401, data: null, error_code: 'UNAUTHORIZED' });
      expect(res.headers['x-request-id']).toBeTruthy();
    }
  });

  it('404 in the envelope for unknown routes and task ids', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nope', headers: { authorization: `Bearer ${server.apiKey}` } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 404, data: null, error_code: 'NOT_FOUND' });
    const t = await app.inject({ method: 'GET', url: '/v1/tasks/tk-hiapi-01M1NB9DKKZRNHA8YSTEMMM3CW', headers: { authorization: `Bearer ${server.apiKey}` } });
    expect(t.statusCode).toBe(404);
    expect(t.json().error_code).toBe('NOT_FOUND');
  });

  it('400 for a bad Idempotency-Key', async () => {
    const long = await create({ model: MODEL, input: input() }, { 'idempotency-key': 'k'.repeat(256) });
    expect(long.status).toBe(400);
    expect(long.body.message).toContain('Idempotency-Key');
    const ok255 = await create({ model: MODEL, input: input() }, { 'idempotency-key': 'k'.repeat(255) });
    expect(ok255.status).toBe(200);
  });
});
