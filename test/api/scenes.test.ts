import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/sdk/index.js';
import { renderScenePhoto } from '../fixtures/scenes.js';
import { apiClient, MODEL, PRO, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The brand scene library (#15.8) through the real service: a folder of the operator's set photos
// with tag sidecars (RESHOOT_SCENES_DIR), listed at GET /v1/scenes, and a prompt naming a tag renders
// the product into that photo.
let server: TestServer;
let api: ReturnType<typeof apiClient>;
let scenesDir: string;
let room: Awaited<ReturnType<typeof renderScenePhoto>>;
let meadow: Awaited<ReturnType<typeof renderScenePhoto>>;

beforeAll(async () => {
  scenesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-scenes-'));
  room = await renderScenePhoto('room', 640, 480);
  meadow = await renderScenePhoto('landscape', 640, 480);
  await fs.writeFile(path.join(scenesDir, 'oak-table.png'), room.png);
  // the product stands 70% down the photo, a third of the way across (the table top runs 56%..80%)
  await fs.writeFile(path.join(scenesDir, 'oak-table.json'), JSON.stringify({ tags: ['oak table', 'our table'], title: 'The oak table', placement: { y: 0.7, x: 0.3 } }));
  await fs.writeFile(path.join(scenesDir, 'meadow.jpg'), await sharp(meadow.png).jpeg({ quality: 95 }).toBuffer());
  await fs.writeFile(path.join(scenesDir, 'meadow.json'), JSON.stringify({ tags: ['meadow'] }));
  server = await startTestServer({ RESHOOT_SCENES_DIR: scenesDir });
  api = apiClient(server);
});
afterAll(async () => {
  await server?.close();
  await fs.rm(scenesDir, { recursive: true, force: true });
});

async function render(body: Record<string, unknown>) {
  const r = await api.post('/v1/tasks', body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const { task } = await api.wait(r.body.data.taskId, 120_000);
  expect(task.status, JSON.stringify(task.error)).toBe('success');
  const bytes = Buffer.from(await (await fetch(task.output[0].url)).arrayBuffer());
  return { task, bytes };
}

/** Mean absolute difference per channel between the output and a photo cover-fitted to it, over pixels far from the product. */
async function farDifference(output: Buffer, photo: Buffer, box: { x: number; y: number; width: number; height: number }): Promise<{ mean: number; pixels: number }> {
  const out = await sharp(output).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width: W, height: H } = out.info;
  const want = await sharp(photo).resize(W, H, { fit: 'cover' }).removeAlpha().raw().toBuffer();
  const margin = 0.15 * Math.max(W, H);
  let sum = 0;
  let n = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dx = Math.max(box.x - x, 0, x - (box.x + box.width));
      const dy = Math.max(box.y - y, 0, y - (box.y + box.height));
      if (Math.hypot(dx, dy) < margin) continue;
      const o = (y * W + x) * 3;
      sum += Math.abs(out.data[o]! - want[o]!) + Math.abs(out.data[o + 1]! - want[o + 1]!) + Math.abs(out.data[o + 2]! - want[o + 2]!);
      n += 3;
    }
  }
  return { mean: sum / n, pixels: n / 3 };
}

describe('GET /v1/scenes', () => {
  it('lists the library for a key: id, title, tags, size, hash and a signed thumbnail anyone with the link can fetch', async () => {
    const anonymous = await fetch(`${server.url}/v1/scenes`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error_code: string }).error_code).toBe('UNAUTHORIZED');

    const r = await api.get('/v1/scenes');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['code', 'message', 'data']);
    const list = r.body.data as Array<Record<string, unknown>>;
    expect(list.map((s) => s.id)).toEqual(['meadow', 'oak-table']);
    const oak = list[1]!;
    expect(Object.keys(oak).sort()).toEqual(['expireAt', 'height', 'id', 'sha256', 'tags', 'thumbnail_url', 'title', 'width']);
    expect(oak).toMatchObject({ title: 'The oak table', tags: ['oak table', 'our table'], width: 640, height: 480 });
    expect(oak.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(list[0]).toMatchObject({ title: 'meadow', tags: ['meadow'] });
    expect(oak.expireAt as number).toBeGreaterThan(Date.now() / 1000 + 3600 - 1);

    const thumb = await fetch(oak.thumbnail_url as string);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([320, 240]);
    // a link with another signature is refused
    expect((await fetch(`${(oak.thumbnail_url as string).replace(/sig=[^&]+/, 'sig=forged')}`)).status).toBe(403);

    // the SDK reads the same list
    const sdk = new Client({ baseUrl: server.url, apiKey: server.apiKey });
    expect((await sdk.scenes()).map((s) => [s.id, s.tags])).toEqual([['meadow', ['meadow']], ['oak-table', ['oak table', 'our table']]]);
  });

  it('is an empty list on a server without a library', async () => {
    const bare = await startTestServer();
    try {
      const r = await apiClient(bare).get('/v1/scenes');
      expect([r.status, r.body.data]).toEqual([200, []]);
    } finally {
      await bare.close();
    }
  });
});

describe('a prompt naming a tag', () => {
  let first: Awaited<ReturnType<typeof render>>;

  it('renders the product into that photo: far from the product the output is the photo, the plan says which scene and which words', async () => {
    first = await render({ model: MODEL, input: { prompt: 'the mug on Our Table, soft morning light', input_urls: [await productDataUri()], seed: 11 } });
    const { task, bytes } = first;
    const plan = task.reshoot.plan;
    expect(plan.scene_photo.library).toEqual({ id: 'oak-table', title: 'The oak table', tag: 'our table', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(plan.scene_photo.index).toBeUndefined();
    expect(plan.words.understood).toContainEqual({ text: 'Our Table', start: 11, end: 20, fields: ['scene_photo'] });
    expect(plan.words.unused).not.toContain('table');

    // `auto` takes the photo's 4:3; the sidecar's placement puts the product's base 70% down, its centre 30% across
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height]).toEqual([1024, 768]);
    const p = task.reshoot.placement;
    expect((p.y + p.height) / 768).toBeCloseTo(0.7, 2);
    expect((p.x + p.width / 2) / 1024).toBeCloseTo(0.3, 1);

    const same = await farDifference(bytes, room.png, p);
    const other = await farDifference(bytes, meadow.png, p);
    expect(same.pixels).toBeGreaterThan(1024 * 768 * 0.4);
    expect(same.mean).toBeLessThan(4);
    expect(other.mean).toBeGreaterThan(30);
  });

  it('uses the photo for the Pro model too, and a prompt without a tag renders the studio set', async () => {
    const pro = await render({ model: PRO, input: { prompt: 'the mug in the meadow', input_urls: [await productDataUri()], seed: 11 } });
    expect(pro.task.reshoot.plan.scene_photo.library.id).toBe('meadow');
    expect((await farDifference(pro.bytes, meadow.png, pro.task.reshoot.placement)).mean).toBeLessThan(6);

    const plain = await render({ model: MODEL, input: { prompt: 'the mug on a wooden table, soft light', input_urls: [await productDataUri()], aspect_ratio: '4:3', seed: 11 } });
    expect(plain.task.reshoot.plan.scene_photo).toBeUndefined();
    expect((await farDifference(plain.bytes, room.png, plain.task.reshoot.placement)).mean).toBeGreaterThan(10);
  });

  it('re-renders into the same photo by its hash: scene_from gives the same bytes, whatever the new prompt says', async () => {
    const again = await render({ model: MODEL, input: { prompt: 'the same again', input_urls: [await productDataUri()], scene_from: first.task.taskId } });
    expect(again.task.reshoot.plan.scene_photo.library).toEqual(first.task.reshoot.plan.scene_photo.library);
    expect(again.bytes.equals(first.bytes)).toBe(true);
  });

  it('keeps the scene over a later turn that names none, and the turn moves only what it says', async () => {
    const turn = await render({ model: MODEL, input: { prompt: 'make the light warmer', input_urls: [first.task.output[0].url] } });
    const plan = turn.task.reshoot.plan;
    expect(plan.scene_photo.library).toEqual(first.task.reshoot.plan.scene_photo.library);
    expect(plan.changes.map((c: { path: string }) => c.path)).toContain('light.temperature');
    expect((await farDifference(turn.bytes, room.png, turn.task.reshoot.placement)).mean).toBeLessThan(4);
  });
});

describe('a bad library', () => {
  it('stops the start with an error naming each bad file', async () => {
    const bad = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-scenes-bad-'));
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-data-'));
    try {
      await fs.writeFile(path.join(bad, 'shelf.png'), room.png);
      await fs.writeFile(path.join(bad, 'shelf.json'), JSON.stringify({ tag: 'shelf' }));
      await fs.writeFile(path.join(bad, 'lost.json'), JSON.stringify({ tags: ['lost'] }));
      const err = await startTestServer({ RESHOOT_SCENES_DIR: bad, RESHOOT_DATA_DIR: dataDir }).then(
        async (s) => {
          await s.close();
          return null;
        },
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/^RESHOOT_SCENES_DIR=".*": the scene library cannot be read:/);
      expect(err?.message).toMatch(/shelf\.json: tags: /);
      expect(err?.message).toMatch(/lost\.json: a sidecar without its photo/);
    } finally {
      await fs.rm(bad, { recursive: true, force: true });
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
