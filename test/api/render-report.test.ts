import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, MODEL, PRO, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The task's reshoot extension carries what the studio did (reshoot.render) and the two fidelity
// figures, through the real server, queue and worker.
let server: TestServer;
let api: ReturnType<typeof apiClient>;
beforeAll(async () => {
  server = await startTestServer();
  api = apiClient(server);
});
afterAll(() => server.close());

describe('the render report of a task', () => {
  it('says what the free model and Pro did, and Pro renders other pixels with the same seed', async () => {
    const input = { prompt: 'on a wooden cafe counter with a blurred warm cafe interior behind it', input_urls: [await productDataUri()], aspect_ratio: '1:1', resolution: '1K', seed: 11 };
    const free = await api.post('/v1/tasks', { model: MODEL, input });
    const pro = await api.post('/v1/tasks', { model: PRO, input });
    expect(free.status).toBe(200);
    expect(pro.status).toBe(200);
    const a = (await api.wait(free.body.data.taskId)).task;
    const b = (await api.wait(pro.body.data.taskId)).task;
    expect(a.status, JSON.stringify(a.error)).toBe('success');
    expect(b.status, JSON.stringify(b.error)).toBe('success');
    expect(a.reshoot.render).toMatchObject({ quality: 'standard', supersampled: false, environment: { photo: 'esplanade' } });
    expect(b.reshoot.render).toMatchObject({ quality: 'pro', supersampled: true, lensBlur: 'full-size HDR disc' });
    // the cutout's quality setting: the free model's side, Pro's own with a mirrored pass
    expect(a.reshoot.cutout).toEqual({ cached: false, modelSize: 768, mirrored: false });
    expect(b.reshoot.cutout).toEqual({ cached: false, modelSize: 1024, mirrored: true });
    expect(a.reshoot.fidelity.colourKept.mean).toBeLessThan(2);
    expect(a.reshoot.fidelity.relight.applied).toBe(true);
    const bytes = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
    expect((await bytes(a.output[0].url)).equals(await bytes(b.output[0].url))).toBe(false);
  }, 120_000);
});
