import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { request } from 'undici';
import { renderPackshot } from '../fixtures/index.js';
import { apiClient, MODEL, PRO } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ERRORS } from '../../src/errors.js';
import Database from 'better-sqlite3';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

let server: TestServer;
let api: ReturnType<typeof apiClient>;
let png: Buffer;

beforeAll(async () => {
  server = await startTestServer({ RESHOOT_UPLOAD_LIMIT_BYTES: String(512 * 1024) });
  api = apiClient(server);
  png = (await renderPackshot({ product: 'can', background: 'white', width: 400, height: 400 })).png;
});
afterAll(() => server.close());

async function upload(bytes: Buffer, name = 'product.png', type = 'image/png') {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  const res = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: form });
  return { status: res.status, body: await res.json() };
}

describe('POST /v1/uploads', () => {
  it('stores an image and returns a URL that works in input_urls, resolved without a network fetch', async () => {
    const up = await upload(png);
    expect(up.status).toBe(200);
    expect(up.body.data.url).toMatch(new RegExp(`^${server.url}/files/uploads/`));
    // The server's own address is loopback, which the fetch guard refuses: success proves local resolution.
    const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on sand at the beach', input_urls: [up.body.data.url] } });
    const { task } = await api.wait(created.body.data.taskId);
    expect(task.status).toBe('success');
  });

  it('refuses non-images (400), oversized files (413) and non-multipart bodies (415)', async () => {
    const text = await upload(Buffer.from('just some text'), 'notes.txt', 'text/plain');
    expect(text.status).toBe(400);
    expect(text.body.error_code).toBe('INVALID_REQUEST');
    const big = await upload(Buffer.concat([png, Buffer.alloc(600 * 1024)]));
    expect(big.status).toBe(413);
    expect(big.body.error_code).toBe('PAYLOAD_TOO_LARGE');
    const json = await api.post('/v1/uploads', { file: 'x' });
    expect(json.status).toBe(415);
  });

  it('decodes an upload before accepting it: truncated, too small and corrupt files are refused, GIF is accepted', async () => {
    const jpeg = await sharp(png).jpeg().toBuffer();
    const dir = path.join(server.dataDir, 'blobs', 'uploads');
    const before = fs.readdirSync(dir).length;
    const truncated = await upload(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'cut.jpg', 'image/jpeg');
    expect(truncated.status).toBe(400);
    expect(truncated.body.message).toMatch(/^file: image could not be decoded \(.*premature end/i);
    const tiny = await upload(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer());
    expect(tiny.status).toBe(400);
    expect(tiny.body.message).toContain('too small to be a product photo');
    const sliver = await upload(await sharp({ create: { width: 2000, height: 20, channels: 3, background: '#888' } }).png().toBuffer());
    expect(sliver.body.message).toContain('2000x20');
    expect(fs.readdirSync(dir).length).toBe(before);
    const gif = await upload(await sharp(png).gif().toBuffer(), 'product.gif', 'image/gif');
    expect(gif.status, JSON.stringify(gif.body)).toBe(200);
    const served = await fetch(gif.body.data.url);
    expect(served.headers.get('content-type')).toBe('image/gif');
  });
});

describe('GET /files/...', () => {
  let url: string;
  beforeAll(async () => {
    const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on terrazzo', input_urls: [(await upload(png)).body.data.url], aspect_ratio: '1:1' } });
    const { task } = await api.wait(created.body.data.taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    url = task.output[0].url;
  });

  it('serves with Content-Type, ETag, conditional GET and ranges, no auth needed', async () => {
    const full = await fetch(url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/png');
    const etag = full.headers.get('etag');
    expect(etag).toBeTruthy();
    const bytes = Buffer.from(await full.arrayBuffer());
    expect((await sharp(bytes).metadata()).width).toBe(1024);
    // fetch() adds Cache-Control: no-cache to conditional requests (Fetch spec), so use a plain client.
    const again = await request(url, { headers: { 'if-none-match': etag! } });
    await again.body.dump();
    expect(again.statusCode).toBe(304);
    const part = await fetch(url, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-99/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(0, 100));
  });

  it('403 for a forged link, 404 for an expired one, in the envelope', async () => {
    const forged = url.replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    const f = await fetch(forged);
    expect(f.status).toBe(403);
    expect(await f.json()).toMatchObject({ code: 403, data: null, error_code: 'FORBIDDEN' });
    const moved = url.replace(/expires=\d+/, 'expires=9999999999');
    expect((await fetch(moved)).status).toBe(403);
    const other = url.replace('/0.png', '/1.png');
    expect((await fetch(other)).status).toBe(403);
    // An expired link: sign a past expiry with the server's own signer (same secret).
    const u = new URL(url);
    const key = u.pathname.replace(/^\/files\//, '');
    const expired = await fetch(signPast(key));
    expect(expired.status).toBe(404);
    expect((await expired.json()).error_code).toBe('NOT_FOUND');
  });
});

function signPast(key: string): string {
  // A link that was valid and has just run out: signed with the server's secret for one second ago.
  const db = new Database(path.join(server.dataDir, 'reshoot.db'), { readonly: true });
  const secret = (db.prepare(`SELECT value FROM settings WHERE name = 'url_signing_secret'`).get() as { value: string }).value;
  db.close();
  const expires = Math.floor(Date.now() / 1000) - 1;
  const sig = createHmac('sha256', secret).update(`${key}\n${expires}`).digest('base64url');
  return `${server.url}/files/${key}?expires=${expires}&sig=${sig}`;
}

describe('meta endpoints', () => {
  it('GET /v1/models lists the models in hiapi\'s shape, with limits and prices alongside', async () => {
    const r = await api.get('/v1/models');
    expect(Array.isArray(r.body.data)).toBe(true);
    for (const m of r.body.data) {
      expect(m).toMatchObject({ category: 'image', output_type: 'image', supported_endpoint_types: ['task'] });
      expect(m.id).toMatch(/^gpt-image-2/);
    }
    const byName = Object.fromEntries(r.body.data.map((m: { id: string }) => [m.id, m]));
    expect(byName[MODEL]).toMatchObject({ input_urls: { min: 1, max: 16 }, resolutions: ['1K', '2K', '4K'], price_usd: 0 });
    expect(byName[MODEL].aspect_ratios).toHaveLength(16);
    expect(byName[PRO]).toMatchObject({ input_urls: { min: 1, max: 5 }, resolutions: ['1K', '2K'], price_usd: 0.4 });
    expect(byName[PRO].aspect_ratios).toHaveLength(11);
    expect(byName['gpt-image-2/image-to-image']).toBeDefined();
  });

  it('GET /api/pricing answers rows in the contract shape', async () => {
    const r = await fetch(`${server.url}/api/pricing`);
    const rows = (await r.json()).data;
    const imageRow = { base_display_unit: 'image', factors: {}, category: 'image', supported_endpoint_types: ['task'], policies: [] };
    expect(rows).toContainEqual({ model_name: PRO, base_usd_value: 0.4, ...imageRow });
    expect(rows).toContainEqual({ model_name: MODEL, base_usd_value: 0, ...imageRow });
    expect(rows).toContainEqual({ model_name: 'storage/persistent', base_usd_value: 0, base_display_unit: 'GB/month', factors: {}, category: 'storage', supported_endpoint_types: ['storage'], policies: [] });
  });

  it('health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const m = await fetch(`${server.url}/metrics`);
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = await m.text();
    expect(text).toMatch(/reshoot_tasks\{status="success"\} [1-9]/);
    expect(text).toMatch(/reshoot_queue_depth \d+/);
    expect(text).toMatch(/reshoot_stage_duration_seconds_bucket\{le="[^"]+",stage="total"\}/);
  });
});

describe('error table', () => {
  it('matches the error table of docs/contract.md exactly, code for code and status for status', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/contract.md'), 'utf8');
    const d4 = doc.slice(doc.indexOf('### §7.2'), doc.indexOf('### §7.4'));
    const rows = new Map<string, number>();
    for (const line of d4.split('\n')) {
      const m = /^\|\s*(`[A-Z_]+`(?:,\s*`[A-Z_]+`)*)\s*\|\s*(\d{3})/.exec(line);
      if (!m) continue;
      for (const code of m[1]!.match(/[A-Z_]+/g)!) rows.set(code, Number(m[2]));
    }
    expect(rows.size).toBeGreaterThan(10);
    expect(Object.fromEntries(rows)).toEqual({ ...ERRORS });
  });
});
