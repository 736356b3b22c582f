import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFTS, driftFrame, fixtureProduct, layoutFrame, type Drift, type Rgba } from '../../../test/fakes/drift.js';
import { startFakeHiapi, type FakeHiapi } from '../../../test/sdk/fake-hiapi.js';
import { encodeImage, probeImage } from '../../engine/codec.js';
import { transformDistance } from '../../engine/lock/index.js';
import type { Box, Rgb8 } from '../../engine/raster/types.js';
import { PermanentTaskError } from '../../errors.js';
import { paintLocked } from '../generative.js';
import { hiapiUpstream, KEEP_PRODUCT, upstreamKey, WAKE } from './index.js';

/**
 * hiapi as an upstream, against a fake hiapi on loopback (test/sdk/fake-hiapi.ts) whose model
 * repaints the layout it was sent with the product drifted (test/fakes/drift.ts). Through the real
 * HTTP client, the product lock and the task-error mapping.
 */

const FRAME = { width: 1024, height: 1024 };
const MODEL = 'gpt-image-2-image-to-image';
let product: Rgba;
let box: Box;
let layout: Rgb8;
let fake: FakeHiapi;
/** the drift the fake model applies, per prompt word */
const driftFor = (prompt: string): Drift => (prompt.includes('CHANGED') ? DRIFTS.find((d) => d.silhouette === 'stretched')! : DRIFTS[1]!);
const sent: Array<{ width: number; height: number; prompt: string }> = [];

beforeAll(async () => {
  product = await fixtureProduct('bottle', 560);
  box = { x: Math.round(512 - product.width / 2), y: 210, width: product.width, height: product.height };
  layout = layoutFrame(product, box, FRAME);
  fake = await startFakeHiapi({
    paint: async ({ input }) => {
      const url = (input.input_urls as string[])[0]!;
      const m = /^data:image\/png;base64,(.+)$/s.exec(url);
      if (!m) throw new Error(`expected a data: URI, got ${url.slice(0, 40)}`);
      const meta = await probeImage(Buffer.from(m[1]!, 'base64'));
      sent.push({ width: meta.width, height: meta.height, prompt: String(input.prompt) });
      const { generated } = await driftFrame(product, box, FRAME, driftFor(String(input.prompt)));
      return encodeImage(generated, 'png');
    },
  });
});
afterAll(() => fake?.close());

const upstream = (o: { timeoutMs?: number } = {}) => hiapiUpstream({ url: fake.url, apiKey: fake.apiKey, pollMs: 20, retryBaseMs: 20, ...o });
const request = (jobKey: string, prompt = 'on an oak table by a sage wall') => ({
  model: MODEL, prompt, layout, product, box, lock: 'strict' as const, aspectRatio: '1:1', resolution: '1K', jobKey, maxPixels: 50e6,
});
const posts = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks');

describe('hiapi upstream', () => {
  it('sends the layout with the prompt and the keep-product line, locks the product in the painted frame', async () => {
    const before = fake.created();
    const done = await paintLocked(upstream(), request('job-1'));
    expect(fake.created() - before).toBe(1);
    const post = posts().at(-1)!;
    expect(post.headers['idempotency-key']).toBe(upstreamKey('job-1'));
    const body = JSON.parse(post.body) as { model: string; input: { prompt: string; aspect_ratio: string; resolution: string } };
    expect(body.model).toBe(MODEL);
    expect(body.input.prompt).toContain(KEEP_PRODUCT);
    expect(body.input).toMatchObject({ aspect_ratio: '1:1', resolution: '1K' });
    expect(sent.at(-1)).toMatchObject({ width: 1024, height: 1024 });
    expect(done.upstream).toMatchObject({ createAttempts: 1, replayed: false });
    expect(done.upstream.taskId).toMatch(/^tk-/);
    const { truth } = await driftFrame(product, box, FRAME, DRIFTS[1]!);
    expect(done.lock.found).toBe(true);
    expect(transformDistance(done.lock.transform, truth, box)).toBeLessThanOrEqual(1);
    expect(done.lock.deltaE.before).toBeGreaterThan(3);
    expect(done.lock.deltaE.after).toBeLessThan(1);
  }, 60_000);

  it('429 with Retry-After, then success: waits as asked and creates one task', async () => {
    fake.fault('POST /v1/tasks', { kind: 'status', status: 429, retryAfter: '1' });
    const before = fake.created(), postsBefore = posts().length;
    const t0 = Date.now();
    const done = await paintLocked(upstream(), request('job-429'));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(posts().length - postsBefore).toBe(2);
    expect(fake.created() - before).toBe(1);
    expect(done.lock.deltaE.after).toBeLessThan(1);
  }, 60_000);

  it('a create performed but its answer lost is replayed under the same key, never made twice', async () => {
    fake.fault('POST /v1/tasks', { kind: 'drop', afterWork: true });
    const before = fake.created(), postsBefore = posts().length;
    const done = await paintLocked(upstream(), request('job-drop'));
    const mine = posts().slice(postsBefore);
    expect(mine.length).toBe(2);
    expect(new Set(mine.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(fake.created() - before).toBe(1);
    expect(done.upstream.replayed).toBe(true);
  }, 60_000);

  it('500 three times: the task fails with the upstream named, nothing created', async () => {
    fake.fault('POST /v1/tasks', { kind: 'status', status: 500, message: 'internal error' }, 3);
    const before = fake.created();
    const err = await paintLocked(upstream(), request('job-500')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as PermanentTaskError).code).toBe('TASK_FAILED');
    expect((err as Error).message).toMatch(/upstream hiapi did not create the task: 3 attempts, last HTTP 500/);
    expect(fake.created() - before).toBe(0);
  });

  it('an upstream task that fails fails ours with its reason', async () => {
    const err = await paintLocked(upstream(), request('job-fail', 'please FAIL')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as PermanentTaskError).code).toBe('TASK_FAILED');
    expect((err as Error).message).toMatch(/^upstream hiapi failed the task: .*download failed/);
  });

  it('an upstream task that never finishes is a TASK_TIMEOUT', async () => {
    fake.script(`stuck forever\n\n${KEEP_PRODUCT}`, ['handling']);
    const err = await paintLocked(upstream({ timeoutMs: 600 }), request('job-stuck', 'stuck forever')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as PermanentTaskError).code).toBe('TASK_TIMEOUT');
  });

  it('an upstream task id already stored is polled, not created again', async () => {
    const first = await paintLocked(upstream(), request('job-resume'));
    const before = fake.created(), postsBefore = posts().length;
    const again = await paintLocked(upstream(), { ...request('job-resume'), upstreamTaskId: first.upstream.taskId });
    expect(posts().length - postsBefore).toBe(0);
    expect(fake.created() - before).toBe(0);
    expect(again.upstream).toMatchObject({ taskId: first.upstream.taskId, createAttempts: 0 });
  }, 60_000);

  it('a stored upstream task the upstream no longer knows (404) is created again, and the new id told', async () => {
    const before = fake.created();
    const told: string[] = [];
    const done = await paintLocked(upstream(), { ...request('job-gone'), upstreamTaskId: 'tk-hiapi-00000000000000000000000000', onCreated: (id) => void told.push(id) });
    expect(fake.created() - before).toBe(1);
    expect(done.upstream).toMatchObject({ createAttempts: 1, replayed: false });
    expect(told).toEqual([done.upstream.taskId]);
    expect(done.upstream.taskId).not.toBe('tk-hiapi-00000000000000000000000000');
  }, 60_000);

  it('a strict lock refuses a frame whose product changed shape, with the reason', async () => {
    const err = await paintLocked(upstream(), request('job-changed', 'CHANGED silhouette')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as Error).message).toMatch(/^product lock: /);
  }, 60_000);
});

describe('hiapi upstream: what the real hiapi accepts', () => {
  // the real hiapi takes public URLs only and downloads them; this fake does too, and its model
  // answers with the image it downloaded, so what came through the link is what comes back
  let linkFake: FakeHiapi;
  let files: Server;
  let filesUrl = '';
  let png: Buffer;
  beforeAll(async () => {
    png = await encodeImage(layout, 'png');
    linkFake = await startFakeHiapi({ fetchInputs: true, paint: async ({ refs }) => refs[0]! });
    files = createServer((req, res) => {
      if (req.url === '/layout.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      else res.writeHead(403).end();
    });
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await linkFake?.close();
    await new Promise((resolve) => files?.close(resolve));
  });

  const linked = (models?: Record<string, string>) =>
    hiapiUpstream({ url: linkFake.url, apiKey: linkFake.apiKey, pollMs: 20, retryBaseMs: 20, ...(models ? { models } : {}) });
  const paintReq = (jobKey: string, model: string, imageUrl: () => string) => ({
    model, prompt: 'on a walnut desk', layout: png, aspectRatio: '1:1', resolution: '1K', jobKey, imageUrl,
  });
  const lastPost = () => JSON.parse(linkFake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks').at(-1)!.body) as { model: string; input: { input_urls: string[] } };

  it('sends the request\'s layout link instead of a data: URI; the upstream downloads the very layout bytes', async () => {
    const link = `${filesUrl}/layout.png`;
    const painted = await linked().paint(paintReq('job-link', MODEL, () => link));
    expect(lastPost().input.input_urls).toEqual([link]);
    expect(linkFake.fetched.at(-1)).toMatchObject({ url: link, status: 200, contentType: 'image/png' });
    expect(painted.image.equals(png)).toBe(true);
  });

  it('asks the upstream for the mapped model and reports it; a model not in the map goes as it is', async () => {
    const up = linked({ 'gpt-image-2-image-to-image-pro': MODEL });
    const pro = await up.paint(paintReq('job-pro', 'gpt-image-2-image-to-image-pro', () => `${filesUrl}/layout.png`));
    expect(lastPost().model).toBe(MODEL);
    expect(pro.model).toBe(MODEL);
    const slashed = await up.paint(paintReq('job-slashed', 'gpt-image-2/image-to-image', () => `${filesUrl}/layout.png`));
    expect(lastPost().model).toBe('gpt-image-2/image-to-image');
    expect(slashed.model).toBe('gpt-image-2/image-to-image');
  });

  it('a link the upstream cannot download fails the task with the upstream\'s reason', async () => {
    const err = await linked().paint(paintReq('job-denied', MODEL, () => `${filesUrl}/denied.png`)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as PermanentTaskError).code).toBe('TASK_FAILED');
    expect((err as Error).message).toMatch(/^upstream hiapi failed the task: .*input_urls\[0\]: download failed \(HTTP 403\)$/);
  });
});

describe('hiapi upstream: its final callback', () => {
  // a fake whose tasks with a callback run 150 ms, then POST the task to callback.url; a receiver on
  // loopback stands for reshoot's route and wakes the poller as the worker does
  let cbFake: FakeHiapi;
  let receiver: Server;
  let receiverUrl = '';
  let png: Buffer;
  const wakes = new EventTarget();
  let received = 0;
  beforeAll(async () => {
    png = await encodeImage(layout, 'png');
    cbFake = await startFakeHiapi({ runMs: 150, paint: async ({ refs }) => refs[0]! });
    receiver = createServer((req, res) => {
      req.resume().on('end', () => {
        received++;
        wakes.dispatchEvent(new Event(WAKE));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/upstream/hiapi/callback/tk-ours?t=x`;
  });
  afterAll(async () => {
    await cbFake?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });
  const up = (callbackPollMs: number) => hiapiUpstream({ url: cbFake.url, apiKey: cbFake.apiKey, pollMs: 20, callbackPollMs, retryBaseMs: 20 });
  const paintReq = (jobKey: string) => ({ model: MODEL, prompt: 'on a walnut desk', layout: png, aspectRatio: '1:1', resolution: '1K', jobKey, callbackUrl: receiverUrl, wakes });

  it('asks for the callback in the create; its wake gets the answer with one GET more, long before the safety poll', async () => {
    const t0 = Date.now();
    const painted = await up(60_000).paint(paintReq('job-cb'));
    expect(Date.now() - t0).toBeLessThan(30_000);
    const body = JSON.parse(cbFake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks').at(-1)!.body) as { callback?: unknown };
    expect(body.callback).toEqual({ url: receiverUrl, when: 'final' });
    expect(painted.callback).toBe('received');
    expect(cbFake.polls(painted.upstreamTaskId)).toBe(2);
    expect(painted.image.equals(png)).toBe(true);
  });

  it('a callback that never comes: the safety poll finds the answer, and says so', async () => {
    cbFake.holdCallbacks(true);
    try {
      const before = received;
      const painted = await up(400).paint(paintReq('job-no-cb'));
      expect(painted.callback).toBe('asked');
      expect(received).toBe(before);
      expect(cbFake.polls(painted.upstreamTaskId)).toBeGreaterThanOrEqual(2);
    } finally {
      cbFake.holdCallbacks(false);
    }
  });

  it('without a callback URL: no callback field, polled every pollMs, nothing reported', async () => {
    const painted = await up(60_000).paint({ ...paintReq('job-polled'), callbackUrl: undefined });
    const body = JSON.parse(cbFake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks').at(-1)!.body) as Record<string, unknown>;
    expect(body).not.toHaveProperty('callback');
    expect(painted).not.toHaveProperty('callback');
    expect(cbFake.polls(painted.upstreamTaskId)).toBe(4);
  });
});
