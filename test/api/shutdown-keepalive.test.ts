import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';

// A server shutting down closes keep-alive connections as their last response ends: a download that
// finished just as close() began left its connection open until the client's keep-alive lapsed
// (Fastify announces 72 s), and shutdown — every test server's close — waited that long.
describe('shutdown after a download', () => {
  it('closes within seconds, not after the keep-alive timeout', { timeout: 120_000 }, async () => {
    const server = await startTestServer();
    let closed = false;
    try {
      // a large file, so the client has read it all before the server's side of the response is done
      const noise = Buffer.alloc(900 * 700 * 3);
      for (let i = 0, x = 12345; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
      const png = await sharp(noise, { raw: { width: 900, height: 700, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'noise.png');
      const up = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: form });
      const body = (await up.json()) as { code: number; data: { url: string } };
      expect(body.code, JSON.stringify(body)).toBe(200);
      const res = await fetch(new URL(body.data.url, server.url));
      expect(res.status).toBe(200);
      expect(res.headers.get('connection')).toBe('keep-alive');
      expect((await res.arrayBuffer()).byteLength).toBe(png.length);
      const t0 = Date.now();
      await server.close();
      closed = true;
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      if (!closed) await server.close();
    }
  });
});
