import Database from 'better-sqlite3';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Signed callbacks to a real receiver on loopback (contract §9, D6): fails twice, then accepts.
const SECRET = 'whsec-test-0123456789abcdef';

interface Delivery {
  at: number;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
}

/** A receiver that answers `plan[i]` to the i-th delivery (then 200) and verifies like a real one. */
function startReceiver(plan: number[]) {
  const deliveries: Delivery[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ at: Date.now(), headers: req.headers, raw: Buffer.concat(chunks) });
      res.statusCode = plan[deliveries.length - 1] ?? 200;
      res.end('ok');
    });
  });
  return new Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }>((resolve) => {
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/hook`, deliveries, close: () => new Promise((r) => srv.close(() => r())) });
    });
  });
}

/** What receivers do: HMAC over timestamp + "." + raw body, constant-time compare, 300 s window. */
function verify(d: Delivery, secret: string): boolean {
  const ts = d.headers['x-hiapi-timestamp'];
  const sig = d.headers['x-hiapi-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const want = createHmac('sha256', secret).update(`${ts}.${d.raw.toString('utf8')}`).digest('hex');
  return sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
}

async function until<T>(fn: () => T | undefined, ms = 150_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Resolves once the sender has decided about the task's attempts (at least `attempts` are recorded) and no
 * delivery job for the task is waiting or running. A further attempt could only come from such a job
 * (a delivery enqueues its retry before its job ends), so none will come.
 */
async function settled(server: TestServer, taskId: string, attempts: number): Promise<void> {
  const db = new Database(path.join(server.dataDir, 'reshoot.db'), { readonly: true });
  try {
    const recorded = db.prepare(`SELECT max(attempt) AS n FROM callback_attempts WHERE task_id = ?`);
    const pending = db.prepare(`SELECT count(*) AS n FROM jobs WHERE name = 'callback.deliver' AND state IN ('waiting', 'active') AND json_extract(payload, '$.taskId') = ?`);
    await until(() => (((recorded.get(taskId) as { n: number | null }).n ?? 0) >= attempts && (pending.get(taskId) as { n: number }).n === 0) || undefined);
  } finally {
    db.close();
  }
}

let server: TestServer;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  server = await startTestServer({
    RESHOOT_WEBHOOK_SECRET: SECRET,
    RESHOOT_CALLBACK_RETRY_SCHEDULE: '0.3,0.6,0.9',
    RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.1',
  });
  api = apiClient(server);
});
afterAll(() => server.close());

describe('callbacks', () => {
  it('retries on the schedule after two failures, signs every attempt afresh, and sends the bare task', async () => {
    const rx = await startReceiver([500, 503]);
    try {
      const created = await api.post('/v1/tasks', {
        model: MODEL,
        input: { prompt: 'on linen, soft window light', input_urls: [await productDataUri()], aspect_ratio: '1:1' },
        callback: { url: rx.url, when: 'final' },
      });
      const id = created.body.data.taskId;
      await until(() => rx.deliveries.length >= 3 || undefined);
      await settled(server, id, 3);
      expect(rx.deliveries).toHaveLength(3);
      for (const d of rx.deliveries) {
        expect(d.headers['content-type']).toBe('application/json');
        expect(d.headers['user-agent']).toMatch(/^reshoot\//);
        expect(d.headers['x-hiapi-signature']).toMatch(/^[0-9a-f]{64}$/);
        expect(verify(d, SECRET)).toBe(true);
        expect(verify(d, 'another-secret-entirely')).toBe(false);
      }
      const body = JSON.parse(rx.deliveries[2]!.raw.toString());
      expect(body.code).toBeUndefined(); // no envelope
      expect(body).toMatchObject({ taskId: id, model: MODEL, status: 'success' });
      expect(body.output).toHaveLength(1);
      expect(body.completed).toBeGreaterThan(0);
      // Retries came at about +0.3 s and +0.6 s after the first attempt.
      const first = rx.deliveries[0]!.at;
      expect(rx.deliveries[1]!.at - first).toBeGreaterThanOrEqual(250);
      expect(rx.deliveries[2]!.at - first).toBeGreaterThanOrEqual(550);
      // The GET view agrees with what was delivered.
      const polled = (await api.get(`/v1/tasks/${id}`)).body.data;
      expect(polled.status).toBe(body.status);
      expect(polled.completed).toBe(body.completed);
    } finally {
      await rx.close();
    }
  });

  it('stops after four attempts in all; the task stays as it is', async () => {
    const rx = await startReceiver([500, 500, 500, 500, 500, 500]);
    try {
      const created = await api.post('/v1/tasks', {
        model: MODEL,
        input: { prompt: 'x', input_urls: ['data:image/png;base64,bm90IGFuIGltYWdl'] },
        callback: { url: rx.url },
      });
      await until(() => rx.deliveries.length >= 4 || undefined);
      await settled(server, created.body.data.taskId, 4);
      expect(rx.deliveries).toHaveLength(4);
      const body = JSON.parse(rx.deliveries[0]!.raw.toString());
      expect(body.status).toBe('fail');
      expect(body.error.code).toBe('TASK_FAILED');
      expect((await api.get(`/v1/tasks/${created.body.data.taskId}`)).body.data.status).toBe('fail');
    } finally {
      await rx.close();
    }
  });
});

describe('callbacks without a secret', () => {
  // one server for both: neither changes what the other sees (the second uses a key of its own)
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer({ RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.1' });
  });
  afterAll(() => plain.close());

  it('are unsigned and carry no signature headers', async () => {
    const rx = await startReceiver([]);
    try {
      const c = apiClient(plain);
      await c.post('/v1/tasks', { model: MODEL, input: { prompt: 'x', input_urls: [await productDataUri()] }, callback: { url: rx.url } });
      await until(() => rx.deliveries[0]);
      expect(rx.deliveries[0]!.headers['x-hiapi-signature']).toBeUndefined();
      expect(rx.deliveries[0]!.headers['x-hiapi-timestamp']).toBeUndefined();
    } finally {
      await rx.close();
    }
  });

  it('a key\'s own webhook secret signs its callbacks', async () => {
    const rx = await startReceiver([]);
    try {
      const { key } = await plain.reshoot.keys.create('hooks', { webhookSecret: 'per-key-secret-0123456789' });
      const c = apiClient(plain, key);
      await c.post('/v1/tasks', { model: MODEL, input: { prompt: 'x', input_urls: [await productDataUri()] }, callback: { url: rx.url } });
      await until(() => rx.deliveries[0]);
      expect(verify(rx.deliveries[0]!, 'per-key-secret-0123456789')).toBe(true);
    } finally {
      await rx.close();
    }
  });
});
