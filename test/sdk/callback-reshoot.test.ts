import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackVerificationError, Client, verifyCallback, type TaskObject } from '../../src/sdk/index.js';
import { renderPackshot } from '../fixtures/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SECRET = 'whsec-sdk-test-0123456789';

interface Delivery {
  raw: Buffer;
  headers: Record<string, string | string[] | undefined>;
  verdict: TaskObject | CallbackVerificationError;
}

let server: TestServer;
let receiver: Server;
let receiverUrl: string;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  server = await startTestServer({ RESHOOT_WEBHOOK_SECRET: SECRET, RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.1' });
  // A receiver written the way the SDK's docs say: raw bytes in, verifyCallback, 204 or 401.
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    let verdict: Delivery['verdict'];
    try {
      verdict = verifyCallback(raw, req.headers, SECRET);
      res.statusCode = 204;
    } catch (err) {
      if (!(err instanceof CallbackVerificationError)) throw err;
      verdict = err;
      res.statusCode = 401;
    }
    deliveries.push({ raw, headers: req.headers, verdict });
    res.end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/reshoot`;
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('verifyCallback against callbacks the real server sends', { timeout: 180_000 }, () => {
  it('accepts the signed terminal task and refuses the same bytes with one byte changed', async () => {
    const client = new Client({ baseUrl: server.url, apiKey: server.apiKey });
    const png = (await renderPackshot({ product: 'can', background: 'white', width: 300, height: 300 })).png;
    const { url } = await client.uploads.create(png);
    const { taskId } = await client.tasks.create(
      'gpt-image-2-image-to-image',
      { prompt: 'on linen', input_urls: [url], aspect_ratio: '1:1' },
      { callback: { url: receiverUrl } },
    );
    await client.tasks.wait(taskId, { intervalMs: 100 });
    const deadline = Date.now() + 60_000;
    while (deliveries.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    expect(deliveries).toHaveLength(1);
    const [d] = deliveries;
    expect(d!.verdict).toMatchObject({ taskId, status: 'success' });
    expect((d!.verdict as TaskObject).output?.[0]?.url).toMatch(/^http/);

    const tampered = Buffer.from(d!.raw);
    tampered[tampered.indexOf('success')] = 'S'.charCodeAt(0);
    expect(() => verifyCallback(tampered, d!.headers, SECRET)).toThrow(CallbackVerificationError);
    expect(() => verifyCallback(d!.raw, d!.headers, SECRET, { now: Math.floor(Date.now() / 1000) + 301 })).toThrow(/tolerance/);
  });
});
