import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFTS, repaintFromMask } from '../fakes/drift.js';
import { startFakeComfyUi, type FakeComfyUi } from '../fakes/fake-comfyui.js';
import { driftFor, startPaintingHiapi } from '../fakes/layout-painter.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/fake-openai.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { KEEP_PRODUCT } from '../../src/providers/hiapi/index.js';
import type { FakeHiapi } from '../sdk/fake-hiapi.js';

/**
 * The generative routes through the real server, queue, worker and engine threads: the route picks
 * the upstream (a fake hiapi and a fake OpenAI images API on loopback, real HTTP), the engine frames
 * the product, the upstream repaints the scene and drifts the product the way image models do
 * (test/fakes/drift.ts), and the product lock puts the photographed product back and reports it.
 */

let hiapi: FakeHiapi;
let openai: FakeOpenAi;
let server: TestServer;
let api: ReturnType<typeof apiClient>;
let product: string;

beforeAll(async () => {
  hiapi = await startPaintingHiapi();
  openai = await startFakeOpenAi(
    (req) => repaintFromMask(req.image, req.mask!, driftFor(req.prompt)),
    async (png) => { const m = await sharp(png).metadata(); return { width: m.width!, height: m.height! }; },
  );
  server = await startTestServer({
    RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url,
    RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey,
    RESHOOT_OPENAI_BASE_URL: openai.url,
    RESHOOT_OPENAI_API_KEY: openai.apiKey,
    RESHOOT_UPSTREAM_POLL_MS: '20',
    RESHOOT_UPSTREAM_RETRY_BASE_MS: '20',
  });
  api = apiClient(server);
  product = await productDataUri();
}, 60_000);
afterAll(async () => {
  await server?.close();
  await hiapi?.close();
  await openai?.close();
});

const input = (prompt: string, over: Record<string, unknown> = {}) => ({ prompt, input_urls: [product], aspect_ratio: '1:1', resolution: '1K', seed: 3, ...over });
async function run(body: Record<string, unknown>) {
  const created = await api.post('/v1/tasks', { model: MODEL, ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return (await api.wait(created.body.data.taskId)).task;
}

describe('generative routes', () => {
  it('route hiapi: the upstream paints around the layout, the lock puts the product back and reports it', async () => {
    const before = hiapi.created();
    const task = await run({ route: 'hiapi', input: input('on an oak table by a sage wall') });
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(hiapi.created() - before).toBe(1);
    const post = hiapi.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks').at(-1)!;
    expect(JSON.parse(post.body)).toMatchObject({ model: MODEL, input: { aspect_ratio: '1:1', resolution: '1K' } });
    expect(task.model).toBe(`${MODEL}@hiapi`);
    const r = task.reshoot;
    expect(r.engine).toBe('hiapi');
    expect(r.upstream).toMatchObject({ engine: 'hiapi', createAttempts: 1, replayed: false });
    expect(r.upstream.taskId).toMatch(/^tk-hiapi-/);
    expect(r.lock).toMatchObject({ mode: 'strict', found: true });
    expect(r.lock.silhouetteIoU).toBeGreaterThanOrEqual(0.85);
    expect(r.lock.deltaE.after).toBeLessThan(1);
    expect(r.lock.deltaE.before).toBeGreaterThan(r.lock.deltaE.after);
    // the drift the fake model applied (DRIFTS[1]: scale 1.08, 2.5°) is what the lock found
    expect(r.lock.transform.scale).toBeCloseTo(1.08, 1);
    expect(Math.abs(r.lock.transform.rotation - 2.5)).toBeLessThan(1);
    // fidelity is read where the lock found the product, pixel for pixel against the source
    expect(r.fidelity.deltaE.p95).toBeLessThan(3);
    expect(r.fidelity.colourKept.mean).toBeLessThan(1);
    expect(r.timings).toHaveProperty('paint');
    expect(r.timings).toHaveProperty('lock');
    const out = await sharp(Buffer.from(await (await fetch(task.output[0].url)).arrayBuffer())).metadata();
    expect([out.width, out.height]).toEqual([1024, 1024]);
  }, 120_000);

  it('route openai: the layout and a mask go to /v1/images/edits; strict lock by default, blend asked for', async () => {
    const task = await run({ route: 'openai', input: input('on white marble', { lock: 'blend' }) });
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    const sent = openai.requests.at(-1)!;
    expect(sent).toMatchObject({ model: 'gpt-image-1', size: '1024x1024' });
    expect(sent.mask).toBeDefined();
    expect(task.reshoot.engine).toBe('openai');
    expect(task.reshoot.lock).toMatchObject({ mode: 'blend', found: true });
    expect(task.reshoot.lock.deltaE.after).toBeLessThan(1);
  }, 120_000);

  it('strict lock: an upstream that changed the silhouette fails the task with the reason; blend keeps it', async () => {
    const strict = await run({ route: 'hiapi', input: input('on slate, CHANGED') });
    expect(strict.status).toBe('fail');
    expect(strict.error.code).toBe('TASK_FAILED');
    expect(strict.error.message).toMatch(/changed the product's silhouette \(IoU 0\.\d+ after alignment < 0\.85\)/);
    const blend = await run({ route: 'hiapi', input: input('on slate, CHANGED', { lock: 'blend', seed: 4 }) });
    expect(blend.status, JSON.stringify(blend.error)).toBe('success');
    expect(blend.reshoot.lock.silhouetteIoU).toBeLessThan(0.85);
  }, 120_000);

  it('upstream 500 three times: the task fails with the upstream\'s answer, after 3 creates under one idempotency key', async () => {
    const posts = () => hiapi.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks');
    const before = posts().length;
    hiapi.fault('POST /v1/tasks', { kind: 'status', status: 500, message: 'upstream exploded' }, 3);
    const task = await run({ route: 'hiapi', input: input('in a forest', { seed: 5 }) });
    expect(task.status).toBe('fail');
    expect(task.error.code).toBe('TASK_FAILED');
    expect(task.error.message).toContain('upstream hiapi did not create the task: 3 attempts, last HTTP 500');
    const tries = posts().slice(before);
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((t) => t.headers['idempotency-key'])).size).toBe(1);
  }, 120_000);

  it('an unconfigured route is 400 listing the routes this server serves', async () => {
    const r = await api.post('/v1/tasks', { model: MODEL, route: 'comfyui', input: input('x') });
    expect(r.status).toBe(400);
    expect(r.body.error_code).toBe('INVALID_REQUEST');
    expect(r.body.message).toContain('route: route "comfyui" is not configured on this server; valid routes: default, studio, hiapi, openai');
    const unknown = await api.post('/v1/tasks', { model: MODEL, route: 'midjourney', input: input('x') });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('unknown route "midjourney"; valid routes: default, studio, hiapi, openai');
  });
});

describe('an upstream that never finishes', () => {
  let slow: TestServer;
  afterAll(() => slow?.close());

  it('fails the task with TASK_TIMEOUT at the task\'s deadline, and charges nothing', async () => {
    slow = await startTestServer({
      RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url,
      RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey,
      RESHOOT_UPSTREAM_POLL_MS: '20',
      RESHOOT_TASK_TIMEOUT_SECONDS: '4',
    });
    // the upstream task stays in handling for 2000 polls (40 s at 20 ms)
    hiapi.script(`on a glacier\n\n${KEEP_PRODUCT}`, Array<string>(2000).fill('handling'));
    const c = apiClient(slow);
    const created = await c.post('/v1/tasks', { model: MODEL, route: 'hiapi', input: input('on a glacier') });
    expect(created.status).toBe(200);
    const task = (await c.wait(created.body.data.taskId)).task;
    expect(task.status).toBe('fail');
    expect(task.error.code).toBe('TASK_TIMEOUT');
    expect(task.reshoot?.cost?.usd ?? 0).toBe(0);
  }, 120_000);
});

describe('fallback to the studio', () => {
  let fb: TestServer;
  afterAll(() => fb?.close());

  it('RESHOOT_FALLBACK_ENGINE=studio: an upstream that is down is replaced by the studio, and the report says so', async () => {
    fb = await startTestServer({
      RESHOOT_DEFAULT_ENGINE: 'hiapi',
      RESHOOT_FALLBACK_ENGINE: 'studio',
      // nothing listens on port 9 of loopback: the upstream is down
      RESHOOT_HIAPI_UPSTREAM_URL: 'http://127.0.0.1:9',
      RESHOOT_HIAPI_UPSTREAM_KEY: 'sk-nobody',
      RESHOOT_UPSTREAM_RETRY_BASE_MS: '10',
    });
    const created = await apiClient(fb).post('/v1/tasks', { model: MODEL, input: input('on a linen cloth') });
    expect(created.status).toBe(200);
    const task = (await apiClient(fb).wait(created.body.data.taskId)).task;
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(task.route).toBeUndefined();
    expect(task.reshoot.engine).toBe('studio');
    expect(task.reshoot.fallback.from).toBe('hiapi');
    expect(task.reshoot.fallback.reason).toContain('upstream hiapi');
    expect(task.reshoot.lock).toBeUndefined();
  }, 120_000);

  it('an edit of a generative result starts again from the photographed product, not from the upstream\'s drifted pixels', async () => {
    const layoutSent = () => {
      const post = hiapi.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks').at(-1)!;
      const url = (JSON.parse(post.body) as { input: { input_urls: string[] } }).input.input_urls[0]!;
      return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
    };
    // lock off: the first result keeps the upstream's product as it drifted it (scale 1.08, 2.5°, recoloured)
    const first = await run({ route: 'hiapi', input: input('on an oak table by a sage wall', { lock: 'off' }) });
    expect(first.status, JSON.stringify(first.error)).toBe('success');
    expect(first.reshoot.lock.mode).toBe('off');
    const firstLayout = await sharp(layoutSent()).raw().toBuffer();
    const second = await run({ route: 'hiapi', input: { prompt: 'make the light warmer', input_urls: [first.output[0].url], aspect_ratio: '1:1', resolution: '1K' } });
    expect(second.status, JSON.stringify(second.error)).toBe('success');
    expect(second.reshoot.lineage).toMatchObject({ parent: first.taskId, turn: 2 });
    // the second layout frames the same photographed product in the same place: the same pixels
    expect((await sharp(layoutSent()).raw().toBuffer()).equals(firstLayout)).toBe(true);
    expect(second.reshoot.lock).toMatchObject({ mode: 'strict', found: true });
    expect(second.reshoot.lock.deltaE.after).toBeLessThan(1);
  }, 180_000);
});

describe('ComfyUI as the default engine', () => {
  let comfy: FakeComfyUi;
  let cs: TestServer;
  let dir: string;
  afterAll(async () => {
    await cs?.close();
    await comfy?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('a task without a route renders with RESHOOT_DEFAULT_ENGINE=comfyui: workflow filled, layout and mask uploaded, product locked', async () => {
    comfy = await startFakeComfyUi(async (wf, uploads) => repaintFromMask(uploads.get(String(wf['10']!.inputs.image))!, uploads.get(String(wf['11']!.inputs.image))!, DRIFTS[2]!));
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-comfy-'));
    const workflow = path.join(dir, 'inpaint.json');
    await fs.writeFile(workflow, JSON.stringify({
      6: { class_type: 'CLIPTextEncode', inputs: { text: 'photograph, {{prompt}}' } },
      10: { class_type: 'LoadImage', inputs: { image: '{{image}}' } },
      11: { class_type: 'LoadImage', inputs: { image: '{{mask}}' } },
      3: { class_type: 'KSampler', inputs: { seed: '{{seed}}', steps: 30 } },
      5: { class_type: 'EmptyLatentImage', inputs: { width: '{{width}}', height: '{{height}}' } },
      9: { class_type: 'SaveImage', inputs: { filename_prefix: 'reshoot', images: ['3', 0] } },
    }));
    cs = await startTestServer({ RESHOOT_DEFAULT_ENGINE: 'comfyui', RESHOOT_COMFYUI_URL: comfy.url, RESHOOT_COMFYUI_WORKFLOW: workflow, RESHOOT_UPSTREAM_POLL_MS: '20' });
    const created = await apiClient(cs).post('/v1/tasks', { model: MODEL, input: input('on a stone step', { aspect_ratio: '4:3' }) });
    expect(created.status).toBe(200);
    const task = (await apiClient(cs).wait(created.body.data.taskId)).task;
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(task.route).toBeUndefined();
    expect(task.reshoot.engine).toBe('comfyui');
    expect(task.reshoot.upstream).toMatchObject({ engine: 'comfyui', createAttempts: 1 });
    expect(task.reshoot.lock).toMatchObject({ mode: 'strict', found: true });
    expect(task.reshoot.lock.silhouetteIoU).toBeGreaterThanOrEqual(0.85);
    expect(task.reshoot.lock.deltaE.after).toBeLessThan(1);
    const ran = comfy.prompts.at(-1)!.prompt;
    expect(ran['6']!.inputs.text).toContain('on a stone step');
    const out = await sharp(Buffer.from(await (await fetch(task.output[0].url)).arrayBuffer())).metadata();
    expect(ran['5']!.inputs).toEqual({ width: out.width, height: out.height });
  }, 120_000);
});
