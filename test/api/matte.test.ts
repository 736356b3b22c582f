import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPackshot, type Packshot } from '../fixtures/index.js';
import { apiClient, MODEL, PRODUCT } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The matte a render cut its product out with, kept by the worker beside the output and served to
// the task's own key (the studio's Fix cutout edits it); and a reference whose alpha the user edited,
// which the render must honour. Real server, worker and engine; every image decoded.
let server: TestServer;
let api: ReturnType<typeof apiClient>;
let other: ReturnType<typeof apiClient>;
let shot: Packshot;
const OTHER_KEY = `sk-test-other-${Math.random().toString(36).slice(2, 10)}`;

beforeAll(async () => {
  const key = `sk-test-${Math.random().toString(36).slice(2, 12)}`;
  server = await startTestServer({ RESHOOT_API_KEYS: `${key},${OTHER_KEY}` });
  api = apiClient(server);
  other = apiClient(server, OTHER_KEY);
  shot = await renderPackshot(PRODUCT);
});
afterAll(() => server.close());

const dataUri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

async function render(input: Record<string, unknown>): Promise<any> {
  const res = await api.post('/v1/tasks', { model: MODEL, input: { aspect_ratio: '1:1', resolution: '1K', seed: 5, ...input } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const { task } = await api.wait(res.body.data.taskId);
  expect(task.status, JSON.stringify(task.error)).toBe('success');
  return task;
}

async function getBytes(path: string, key = server.apiKey): Promise<{ status: number; type: string | null; bytes: Buffer }> {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A grey PNG's one channel (sharp would widen it to sRGB), and how many channels the file has. */
async function decodeGrey(png: Buffer): Promise<{ width: number; height: number; channels: number; data: Buffer }> {
  const meta = await sharp(png).metadata();
  const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: meta.channels ?? 0, data };
}

/** Mean of `plane` (one byte a pixel) over the pixels where `where` holds. */
function meanWhere(plane: Buffer, stride: number, where: (i: number) => boolean): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < plane.length / stride; i++) {
    if (!where(i)) continue;
    sum += plane[i * stride]!;
    n++;
  }
  return n ? sum / n : NaN;
}

/** The true product's box in the fixture. */
function productBox(): { x0: number; x1: number; y0: number; y1: number } {
  const { width, height, alpha } = shot;
  let x0 = width, x1 = 0, y0 = height, y1 = 0;
  for (let i = 0; i < alpha.length; i++) {
    if (alpha[i]! < 128) continue;
    const x = i % width;
    const y = Math.floor(i / width);
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  return { x0, x1, y0, y1 };
}

/** Height over width of what is opaque (alpha over 128) in an RGBA output. */
async function opaqueAspect(url: string): Promise<number> {
  const { data, info } = await sharp(Buffer.from(await (await fetch(url)).arrayBuffer())).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let x0 = info.width, x1 = 0, y0 = info.height, y1 = 0;
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      if (data[(y * info.width + x) * 4 + 3]! <= 128) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  return (y1 - y0 + 1) / (x1 - x0 + 1);
}

describe('GET /v1/tasks/:id/matte and /source', () => {
  let first: any;

  it('serves the matte of a render: a grey PNG at the reference\'s size, product high and backdrop low', async () => {
    first = await render({ prompt: 'on white marble', input_urls: [dataUri(shot.png)] });
    expect(first.reshoot.mattes).toEqual([{ ref: 0, width: PRODUCT.width, height: PRODUCT.height }]);
    const res = await getBytes(`/v1/tasks/${first.taskId}/matte?ref=0`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('image/png');
    const matte = await decodeGrey(res.bytes);
    expect([matte.width, matte.height, matte.channels]).toEqual([PRODUCT.width, PRODUCT.height, 1]);
    // against the fixture's true alpha
    const inside = meanWhere(matte.data, 1, (i) => shot.alpha[i]! >= 250);
    const outside = meanWhere(matte.data, 1, (i) => shot.alpha[i] === 0);
    expect(inside).toBeGreaterThan(220);
    expect(outside).toBeLessThan(25);
    // the ref defaults to 0
    expect((await getBytes(`/v1/tasks/${first.taskId}/matte`)).bytes.equals(res.bytes)).toBe(true);
  });

  it('serves the reference the render read, byte for byte', async () => {
    const res = await getBytes(`/v1/tasks/${first.taskId}/source?ref=0`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('image/png');
    expect(res.bytes.equals(shot.png)).toBe(true);
  });

  it('answers 404 in the envelope for an unknown reference, a bad task id and another key\'s task; 400 for a bad ref', async () => {
    for (const path of [`/v1/tasks/${first.taskId}/matte?ref=1`, `/v1/tasks/${first.taskId}/source?ref=3`, '/v1/tasks/tk-nope/matte']) {
      const res = await api.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body).toMatchObject({ code: 404, data: null, error_code: 'NOT_FOUND' });
    }
    for (const path of [`/v1/tasks/${first.taskId}/matte?ref=0`, `/v1/tasks/${first.taskId}/source?ref=0`]) {
      const res = await other.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body.error_code).toBe('NOT_FOUND');
    }
    const bad = await api.get(`/v1/tasks/${first.taskId}/matte?ref=-1`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error_code: 'INVALID_REQUEST', data: null });
    expect(bad.body.message).toMatch(/^ref: /);
    const anon = await fetch(`${server.url}/v1/tasks/${first.taskId}/matte`);
    expect(anon.status).toBe(401);
    // documented in /openapi.json beside GET /v1/tasks/{id}
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/tasks/{id}/matte', '/v1/tasks/{id}/source']));
    expect(await (await fetch(`${server.url}/docs/api`)).text()).toContain('/v1/tasks/{id}/matte');
  });

  it('a later turn (from the cached cutout) has its matte too, and its source is the first turn\'s photo', async () => {
    const turn = await render({ prompt: 'make the light warmer', input_urls: [first.output[0].url] });
    expect(turn.reshoot.lineage.parent).toBe(first.taskId);
    expect(turn.reshoot.cutout.cached).toBe(true);
    const [a, b] = await Promise.all([getBytes(`/v1/tasks/${first.taskId}/matte`), getBytes(`/v1/tasks/${turn.taskId}/matte`)]);
    expect(b.status).toBe(200);
    expect((await decodeGrey(b.bytes)).data.equals((await decodeGrey(a.bytes)).data)).toBe(true);
    expect((await getBytes(`/v1/tasks/${turn.taskId}/source`)).bytes.equals(shot.png)).toBe(true);
  });

  it('a reference with an edited alpha is rendered with it: an erased part of the product is background in the output, and in later turns', async () => {
    // the user erases the top 30 % of the mug (its rim), as the studio saves it: source pixels + edited alpha
    const box = productBox();
    const cut = box.y0 + Math.round((box.y1 - box.y0) * 0.3);
    const erased = (i: number) => Math.floor(i / shot.width) < cut;
    const matte = (await decodeGrey((await getBytes(`/v1/tasks/${first.taskId}/matte`)).bytes)).data;
    const rgb = await sharp(shot.png).removeAlpha().raw().toBuffer();
    const rgba = Buffer.alloc(shot.width * shot.height * 4);
    for (let i = 0; i < shot.width * shot.height; i++) {
      rgba[i * 4] = rgb[i * 3]!;
      rgba[i * 4 + 1] = rgb[i * 3 + 1]!;
      rgba[i * 4 + 2] = rgb[i * 3 + 2]!;
      rgba[i * 4 + 3] = erased(i) ? 0 : matte[i]!;
    }
    const edited = await sharp(rgba, { raw: { width: shot.width, height: shot.height, channels: 4 } }).png().toBuffer();

    const input = { prompt: 'on white marble', background: 'transparent', output_format: 'png' };
    const plain = await render({ ...input, input_urls: [dataUri(shot.png)] });
    const fixed = await render({ ...input, input_urls: [dataUri(edited)] });
    // the edited alpha is the matte: nothing of the erased part, the rest as it was
    const fixedMatte = (await decodeGrey((await getBytes(`/v1/tasks/${fixed.taskId}/matte`)).bytes)).data;
    expect(meanWhere(fixedMatte, 1, erased)).toBe(0);
    expect(meanWhere(fixedMatte, 1, (i) => !erased(i) && shot.alpha[i]! >= 250)).toBeGreaterThan(220);
    // in the output the product has lost its top: it is 30 % less tall for its width
    const before = await opaqueAspect(plain.output[0].url);
    const after = await opaqueAspect(fixed.output[0].url);
    expect(after / before).toBeGreaterThan(0.6);
    expect(after / before).toBeLessThan(0.8);

    // a later turn builds on the edited reference, not on a fresh cutout of it
    const turn = await render({ prompt: 'now on dark slate', input_urls: [fixed.output[0].url] });
    expect(turn.reshoot.lineage.parent).toBe(fixed.taskId);
    const turnMatte = (await decodeGrey((await getBytes(`/v1/tasks/${turn.taskId}/matte`)).bytes)).data;
    expect(meanWhere(turnMatte, 1, erased)).toBe(0);
  });
});
