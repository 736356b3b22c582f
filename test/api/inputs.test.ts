import http from 'node:http';
import sharp from 'sharp';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot } from '../fixtures/index.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Reference downloads: the address guard (loopback, private, link-local, metadata, redirects, DNS)
// and bad references, each ending the task in `fail` with the URL's position — never a crash.

let png: Buffer;
let tinyPng: Buffer;
let blankPng: Buffer;
let upstream: http.Server;
let base: string; // the fake upstream, on 127.0.0.2 (allow-listed)
let loopbackTarget: string; // the same server reached as 127.0.0.1 (not allow-listed)

function startUpstream(): Promise<http.Server> {
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/product.png':
        res.setHeader('content-type', 'image/png');
        return res.end(png);
      case '/missing.png':
        res.statusCode = 404;
        return res.end('not here');
      case '/page.html':
        res.setHeader('content-type', 'text/html');
        return res.end('<html><body>not an image</body></html>');
      case '/truncated.png':
        res.setHeader('content-type', 'image/png');
        return res.end(png.subarray(0, Math.floor(png.length / 3)));
      case '/tiny.png':
        res.setHeader('content-type', 'image/png');
        return res.end(tinyPng);
      case '/blank.png':
        res.setHeader('content-type', 'image/png');
        return res.end(blankPng);
      case '/empty.png':
        res.setHeader('content-type', 'image/png');
        return res.end();
      case '/huge.png':
        res.setHeader('content-type', 'image/png');
        return res.end(Buffer.alloc(300 * 1024, 1));
      case '/to-loopback':
        res.statusCode = 302;
        res.setHeader('location', `${loopbackTarget}/product.png`);
        return res.end();
      case '/loop':
        res.statusCode = 302;
        res.setHeader('location', `/loop?n=${Number(url.searchParams.get('n') ?? 0) + 1}`);
        return res.end();
      case '/hop':
        res.statusCode = 301;
        res.setHeader('location', '/product.png');
        return res.end();
      default:
        res.statusCode = 404;
        return res.end();
    }
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.2', () => resolve(srv)));
}

let server: TestServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  png = (await renderPackshot({ product: 'bottle', background: 'white', width: 300, height: 400 })).png;
  tinyPng = (await renderPackshot({ product: 'bottle', background: 'white', width: 48, height: 64 })).png;
  blankPng = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#eeeeec' } }).png().toBuffer();
  upstream = await startUpstream();
  const { port } = upstream.address() as AddressInfo;
  base = `http://127.0.0.2:${port}`;
  loopbackTarget = `http://127.0.0.1:${port}`;
  server = await startTestServer({
    RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.2',
    RESHOOT_FETCH_MAX_BYTES: String(200 * 1024),
    RESHOOT_FETCH_TIMEOUT_MS: '3000',
    RESHOOT_JOB_MAX_ATTEMPTS: '1',
  });
  api = apiClient(server);
});
afterAll(async () => {
  await server.close();
  await new Promise((r) => upstream.close(r));
});

async function run(urls: string[]) {
  const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on concrete', input_urls: urls } });
  expect(created.status).toBe(200);
  return (await api.wait(created.body.data.taskId)).task;
}

describe('reference downloads', () => {
  it('fetches an allowed host and follows a redirect', async () => {
    expect((await run([`${base}/product.png`])).status).toBe('success');
    expect((await run([`${base}/hop`])).status).toBe('success');
  });

  it.each([
    ['loopback', 'http://127.0.0.1:9/p.png'],
    ['private 10/8', 'http://10.0.0.1/p.png'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 loopback', 'http://[::1]:9/p.png'],
    ['IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]:9/p.png'],
    ['a hostname resolving to loopback', 'http://localhost:9/p.png'],
  ])('refuses %s', async (_name, url) => {
    const task = await run([`${base}/product.png`, url]);
    expect(task.status).toBe('fail');
    expect(task.error.code).toBe('TASK_FAILED');
    expect(task.error.message).toMatch(/^input_urls\[1\]: refused: /);
  });

  it('refuses a redirect to loopback, checked again on the hop', async () => {
    const task = await run([`${base}/to-loopback`]);
    expect(task.status).toBe('fail');
    expect(task.error.message).toMatch(/^input_urls\[0\]: refused: .*127\.0\.0\.1/);
  });

  it('stops after 3 redirects', async () => {
    const task = await run([`${base}/loop`]);
    expect(task.error.message).toBe('input_urls[0]: download failed (more than 3 redirects)');
  });

  it.each([
    ['a 404', '/missing.png', /download failed \(HTTP 404\)/],
    ['a page that is not an image', '/page.html', /unsupported image format: SVG, XML or HTML text/],
    ['a truncated image', '/truncated.png', /input_urls\[0\]: .*(decod|truncat|premature|end)/i],
    ['an empty body', '/empty.png', /empty \(0 bytes\)/],
    ['an image too small to be a product photo', '/tiny.png', /48x64: too small to be a product photo/],
    ['an image with no product in it', '/blank.png', /no product found: the cutout sees nothing in front of the background/],
    ['an oversized body', '/huge.png', /over the 0\.20 MB limit|over the 0 MB limit|limit/],
  ])('fails the task for %s', async (_name, p, re) => {
    const task = await run([`${base}${p}`]);
    expect(task.status).toBe('fail');
    expect(task.error.code).toBe('TASK_FAILED');
    expect(task.error.message).toMatch(/^input_urls\[0\]: /);
    expect(task.error.message).toMatch(re);
  });

  it('frames a reference far wider than 3:1 at 3:1 under aspect_ratio auto', async () => {
    const strip = await sharp({ create: { width: 6400, height: 80, channels: 3, background: '#f4f4f2' } })
      .composite([{ input: { create: { width: 6000, height: 40, channels: 3, background: '#2a4d8f' } }, left: 200, top: 20 }])
      .png()
      .toBuffer();
    const uri = `data:image/png;base64,${strip.toString('base64')}`;
    const task = await run([uri]);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    const out = await sharp(Buffer.from(await (await fetch(task.output[0].url)).arrayBuffer())).metadata();
    expect({ width: out.width, height: out.height }).toEqual({ width: 1024, height: 336 });
  });

  it('warns when the product must be enlarged more than 2x for the output, and not otherwise', async () => {
    const small = (await renderPackshot({ product: 'mug', background: 'white', width: 160, height: 160 })).png;
    const soft = await run([`data:image/png;base64,${small.toString('base64')}`]);
    expect(soft.status, JSON.stringify(soft.error)).toBe('success');
    expect(soft.reshoot.placement.upscale).toBeGreaterThan(2);
    expect(soft.reshoot.warnings).toEqual([expect.stringMatching(/^the product is enlarged \d+\.\d× from its photo/)]);
    const crisp = await run([`${base}/product.png`]);
    expect(crisp.reshoot.placement.upscale).toBeLessThanOrEqual(2);
    expect(crisp.reshoot.warnings).toBeUndefined();
  });

  it('keeps serving after all of that', async () => {
    expect((await api.get('/healthz')).status).toBe(200);
    expect((await run([`${base}/product.png`])).status).toBe('success');
  });
});
