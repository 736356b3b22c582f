import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Authentication is decided by the route a request matched, never by how its path was spelled. Every
 * API route is reached through percent-encoding, doubled slashes, dot segments, case changes and
 * trailing characters, with and without a key: without one nothing is ever served (no 2xx) and no
 * spelling makes the server fail (no 5xx). The API role alone: no render is needed.
 */
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ RESHOOT_ROLE: 'api' });
});
afterAll(() => server.close());

/** The routes as the server registered them: full paths rebuilt from Fastify's route tree. */
function registeredRoutes(): Array<{ url: string; methods: string[] }> {
  const tree = server.reshoot.app!.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const out: Array<{ url: string; methods: string[] }> = [];
  for (const line of tree.split('\n')) {
    const m = /^([│\s]*)[└├]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    if (m[3]) out.push({ url: stack.join('').replace(/^\/\//, '/'), methods: m[3].split(', ') });
  }
  return out;
}

/** Sends the path exactly as given (fetch and URL would normalise it first). */
function raw(method: string, rawPath: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // An early answer (401 before the body is read) may reset a body still being written, and the
    // answer to a request line the server could not parse carries a body even for HEAD: the status,
    // when one came, is what counts.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (status !== 0 || err.code === 'ECONNRESET' || err.code === 'EPIPE') resolve({ status, body: err.code ?? '' });
      else reject(err);
    });
    req.end(body);
  });
}

const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
const HEX = (c: string) => hex(c).toUpperCase();

/** Spellings of one path that a client, a proxy or an attacker might send. */
function spellings(p: string): string[] {
  const rest = p.slice('/v1'.length); // e.g. "/tasks/tk-x"
  const seg = rest.split('/')[1] ?? '';
  return [
    p,
    `/${[...'v1'].map(hex).join('')}${rest}`,
    `/${[...'v1'].map(HEX).join('')}${rest}`,
    `/v${hex('1')}${rest}`,
    `/v1/${[...seg].map(hex).join('')}${rest.slice(1 + seg.length)}`,
    `/v1${hex('/')}${rest.slice(1)}`,
    `/v1${HEX('/')}${rest.slice(1)}`,
    `/${hex('v')}1${rest}?x=1`,
    `/%2576%2531${rest}`,
    `//v1${rest}`,
    `/v1/${rest}`,
    `///v1//${rest.slice(1)}`,
    `/./v1${rest}`,
    `/v1/.${rest}`,
    `/x/../v1${rest}`,
    `/v1/x/..${rest}`,
    `/${hex('.')}${hex('.')}/v1${rest}`,
    `/v1/%2e%2e/v1${rest}`,
    `/V1${rest}`,
    `/v1${rest.toUpperCase()}`,
    `${p}/`,
    `${p}//`,
    `${p}/.`,
    `${p}?`,
    `${p};x`,
    `${p}%00`,
    `${p}%20`,
    `${p}%2f`,
    `/v1${rest}#frag`,
    `/%76%31${rest}/`,
    `\\v1${rest}`,
    `/v1\\${rest.slice(1)}`,
  ];
}

describe('authentication is bound to the matched route', () => {
  it('finds every API route in the server\'s own route table', () => {
    const api = registeredRoutes().filter((r) => r.url.startsWith('/v1/')).map((r) => r.url).sort();
    expect(api).toEqual(['/v1/models', '/v1/scenes', '/v1/storages', '/v1/storages/delete', '/v1/storages/promote', '/v1/tasks', '/v1/tasks/:id', '/v1/tasks/:id/matte', '/v1/tasks/:id/source', '/v1/uploads', '/v1/usage']);
  });

  it('describes every API route, and only those, in /openapi.json and on /docs/api', async () => {
    const served = registeredRoutes()
      .filter((r) => r.url.startsWith('/v1/'))
      .flatMap((r) => r.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`))
      .sort();
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(served);
    const page = await fetch(`${server.url}/docs/api`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    for (const p of Object.keys(doc.paths)) expect(html).toContain(`<code>${p}</code>`);
    expect(html).toContain('<code>aspect_ratio</code>');
  });

  it('serves no API route without a key, under any spelling, and never fails with 5xx', async () => {
    const routes = registeredRoutes().filter((r) => r.url.startsWith('/v1/'));
    const withKey = { authorization: `Bearer ${server.apiKey}` };
    const served: string[] = [];
    const failed: string[] = [];
    let refused = 0;
    let checked = 0;
    for (const route of routes) {
      const concrete = route.url.replace(':id', 'tk-hiapi-01JZ0000000000000000000000');
      for (const method of route.methods) {
        for (const p of spellings(concrete)) {
          const body = method === 'POST' ? Buffer.from('{}') : undefined;
          const headers: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json' } : {};
          const anon = await raw(method, p, headers, body);
          const keyed = await raw(method, p, { ...headers, ...withKey }, body);
          checked++;
          if (anon.status < 400) served.push(`${method} ${p} -> ${anon.status}`);
          if (anon.status === 401) refused++;
          for (const [who, r] of [['anonymous', anon], ['with key', keyed]] as const) {
            if (r.status >= 500) failed.push(`${who} ${method} ${p} -> ${r.status} ${r.body.slice(0, 120)}`);
          }
        }
      }
    }
    expect(served).toEqual([]);
    expect(failed).toEqual([]);
    // The decoded spellings do reach the routes (and are refused there), so the check above is not vacuous.
    expect(refused).toBeGreaterThan(checked / 4);
    expect(checked).toBeGreaterThan(200);
  });

  it('answers 401 for the encoded spellings the router decodes, and serves them with a key', async () => {
    expect((await raw('GET', '/%76%31/models')).status).toBe(401);
    expect((await raw('GET', '/v1/%6d%6f%64%65%6c%73')).status).toBe(401);
    const keyed = await raw('GET', '/%76%31/models', { authorization: `Bearer ${server.apiKey}` });
    expect(keyed.status).toBe(200);
    expect(JSON.parse(keyed.body).code).toBe(200);
  });

  it('serves no file without a valid signature, whatever the spelling, and never leaves the blob folder', async () => {
    const paths = [
      '/files/tasks/x/0.png',
      '/files/../reshoot.db',
      '/files/%2e%2e/reshoot.db',
      '/files/..%2freshoot.db',
      '/files/%2e%2e%2freshoot.db',
      '/files/uploads/%2e%2e/%2e%2e/reshoot.db?expires=9999999999&sig=x',
      '//files/tasks/x/0.png?expires=1&sig=x',
      '/FILES/tasks/x/0.png',
      '/files/tasks/x/0.png%00.png?expires=9999999999&sig=abc',
      `/files/${'a/'.repeat(200)}0.png`,
    ];
    for (const p of paths) {
      const r = await raw('GET', p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
      expect(r.body, p).not.toContain('SQLite');
    }
  });

  it('writes no file for an upload without a key, whatever the spelling', async () => {
    const boundary = 'reshootboundary';
    const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#c0503a' } }).png().toBuffer();
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      png,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    for (const p of spellings('/v1/uploads')) {
      const r = await raw('POST', p, { 'content-type': `multipart/form-data; boundary=${boundary}` }, body);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.status, p).toBeLessThan(500);
    }
    const dir = path.join(server.dataDir, 'blobs', 'uploads');
    expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).toEqual([]);
  });
});
