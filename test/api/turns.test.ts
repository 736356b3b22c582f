import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Multi-turn editing and scene reuse, service side: an output URL of ours as input_urls[0] makes the
// next turn, resolved locally; every turn renders from the first turn's source, never from pixels
// of an earlier output.
let server: TestServer;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  server = await startTestServer();
  api = apiClient(server);
});
afterAll(() => server.close());

const sourcesOf = (id: string): string[] => {
  const db = new Database(path.join(server.dataDir, 'reshoot.db'), { readonly: true });
  const row = db.prepare(`SELECT sources FROM tasks WHERE id = ?`).get(id) as { sources: string };
  db.close();
  return JSON.parse(row.sources);
};

describe('multi-turn editing', () => {
  it('ten turns keep the original source and its fidelity; lineage counts the turns', async () => {
    const first = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on dark slate, dramatic side light', input_urls: [await productDataUri()], aspect_ratio: '1:1', seed: 7 } });
    let task = (await api.wait(first.body.data.taskId)).task;
    expect(task.status).toBe('success');
    expect(task.reshoot.lineage).toBeUndefined();
    const root = task.taskId;
    const rootSources = sourcesOf(root);
    // Unlit fidelity is the compositing error alone; the relit figure moves with the light the edits change.
    const fidelity1 = task.reshoot.fidelity.deltaEUnlit.mean;
    const edits = ['make the light warmer', 'light from the right instead', 'darker background', 'move the product to the left third', 'remove the steam', 'now on white marble', 'zoom out a bit', 'softer shadow', 'cooler light', 'back to slate'];
    for (const [i, prompt] of edits.slice(0, 9).entries()) {
      const next = await api.post('/v1/tasks', { model: MODEL, input: { prompt, input_urls: [task.output[0].url], aspect_ratio: '1:1' } });
      expect(next.status).toBe(200);
      const parent = task.taskId;
      task = (await api.wait(next.body.data.taskId)).task;
      expect(task.status, JSON.stringify(task.error)).toBe('success');
      expect(task.reshoot.lineage).toEqual({ parent, turn: i + 2, root });
      expect(sourcesOf(task.taskId)).toEqual(rootSources);
      expect(task.reshoot.seed).toBe(7);
    }
    expect(task.reshoot.lineage.turn).toBe(10);
    // The product is still the original photograph: fidelity at turn 10 is turn 1's, not worse.
    expect(task.reshoot.fidelity.deltaEUnlit.mean).toBeLessThanOrEqual(fidelity1 + 0.5);
    // The edits really edited: the last turn's plan lists what it changed.
    expect(Array.isArray(task.reshoot.plan.changes)).toBe(true);
  });

  it('another key\'s output URL is only an image: no lineage crosses keys', async () => {
    const first = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on linen', input_urls: [await productDataUri()] } });
    const out = (await api.wait(first.body.data.taskId)).task.output[0].url;
    const { key } = await server.reshoot.keys.create('stranger');
    const stranger = apiClient(server, key);
    const t = await stranger.post('/v1/tasks', { model: MODEL, input: { prompt: 'on linen', input_urls: [out] } });
    const task = (await stranger.wait(t.body.data.taskId)).task;
    expect(task.status).toBe('success');
    expect(task.reshoot.lineage).toBeUndefined();
  });
});

describe('scene_from', () => {
  it('reuses the plan and seed of an earlier task; refuses unknown or unfinished tasks at create time', async () => {
    const a = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on a wooden cafe counter, warm blurred cafe, morning light', input_urls: [await productDataUri()], aspect_ratio: '4:3', seed: 99 } });
    const first = (await api.wait(a.body.data.taskId)).task;
    const b = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'same scene, second angle', input_urls: [await productDataUri()], aspect_ratio: '4:3', scene_from: first.taskId } });
    expect(b.status).toBe(200);
    const second = (await api.wait(b.body.data.taskId)).task;
    expect(second.status).toBe('success');
    expect(second.reshoot.scene_from).toBe(first.taskId);
    expect(second.reshoot.seed).toBe(99);
    expect(second.reshoot.plan).toEqual(first.reshoot.plan);

    const missing = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'x', input_urls: [await productDataUri()], scene_from: 'tk-hiapi-01M1NB9DKKZRNHA8YSTEMMM3CW' } });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^input\.scene_from: task .* not found/);
  });
});
