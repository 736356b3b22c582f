import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderScenePhoto } from '../fixtures/scenes.js';
import { apiClient, MODEL, PRO, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { REAL_MODEL } from '../helpers/tiny-model.js';

// Engine side of pro references and multi-turn edits, through the real service and segmentation
// model: roles detected from the images, a product placed into a scene photo, relative edits that
// move only what they name.
let server: TestServer;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  // the real segmentation weights: the room photo test is the scene photo path's end-to-end render on them
  // (the turns below reuse the product's cached matte)
  server = await startTestServer(REAL_MODEL);
  api = apiClient(server);
});
afterAll(() => server.close());

const uri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

describe('pro references', () => {
  // real model: the scene photo path end to end
  it('a product and a room photo: the room is detected as the scene and the product stands on its table', async () => {
    const room = await renderScenePhoto('room', 480, 360);
    const r = await api.post('/v1/tasks', { model: PRO, input: { prompt: 'on the table, natural light', input_urls: [await productDataUri(), uri(room.png)], aspect_ratio: '4:3', seed: 3 } });
    expect(r.status).toBe(200);
    const task = (await api.wait(r.body.data.taskId, 90_000)).task;
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    const plan = task.reshoot.plan;
    expect(plan.references).toEqual([{ index: 1, role: 'product', source: 'default' }, { index: 2, role: 'scene', source: 'detected' }]);
    const p = task.reshoot.placement;
    const out = task.reshoot.plan.scene_photo;
    const base = (p.y + p.height) / 768;
    expect(base).toBeCloseTo(out.surface_y, 2);
    expect(base).toBeGreaterThan(room.geometry.backEdge!);
    expect(base).toBeLessThan(room.geometry.frontEdge!);
  });
});

describe('relative edits over turns', () => {
  it('each turn changes only what it names, and the plan lists it', async () => {
    const first = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on dark slate, dramatic side light with steam', input_urls: [await productDataUri()], aspect_ratio: '1:1', seed: 5 } });
    let task = (await api.wait(first.body.data.taskId, 90_000)).task;
    expect(task.status).toBe('success');
    const fidelity1 = task.reshoot.fidelity.deltaEUnlit.mean;
    const steps: Array<[string, string[]]> = [
      ['make the light warmer', ['grade.warmth', 'light.temperature']],
      ['light from the right instead', ['light.azimuth', 'light.from', 'shadow.direction']],
      ['darker background', ['backdrop.color']],
      ['remove the steam', ['effects.steam']],
      ['now on white marble', ['reflection.enabled', 'reflection.strength', 'surface.color', 'surface.finish', 'surface.gloss', 'surface.material', 'surface.tone']],
    ];
    for (const [prompt, paths] of steps) {
      const parentPlan = task.reshoot.plan;
      const next = await api.post('/v1/tasks', { model: MODEL, input: { prompt, input_urls: [task.output[0].url], aspect_ratio: '1:1' } });
      task = (await api.wait(next.body.data.taskId, 90_000)).task;
      expect(task.status, JSON.stringify(task.error)).toBe('success');
      const plan = task.reshoot.plan;
      expect(plan.changes.map((c: { path: string }) => c.path).sort(), prompt).toEqual(paths);
      for (const c of plan.changes) {
        const [group, key] = c.path.split('.');
        expect(parentPlan[group][key]).toEqual(c.from);
      }
    }
    expect(task.reshoot.plan.light.from).toBe('right');
    expect(task.reshoot.plan.surface.material).toBe('marble');
    expect(task.reshoot.plan.effects.steam).toBe(0);
    expect(task.reshoot.fidelity.deltaEUnlit.mean).toBeLessThanOrEqual(fidelity1 + 0.5);
  });
});
