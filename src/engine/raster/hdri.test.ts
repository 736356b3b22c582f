import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, loadEnvironment, meanRadiance, reproject, sampleDirection, toSrgb8 } from './hdri.js';

describe('environments', () => {
  it('decodes every shipped environment into finite linear radiance, sky on top', async () => {
    for (const name of ENVIRONMENT_NAMES) {
      const env = await loadEnvironment(name);
      expect([env.width, env.height]).toEqual([512, 256]);
      expect(env.data.every(Number.isFinite)).toBe(true);
      const [r, g, b] = meanRadiance(env);
      expect(r + g + b).toBeGreaterThan(0);
    }
    // outdoors in daylight, looking up is brighter than looking down
    const sky = await loadEnvironment('sky');
    const up = [0, 0, 0];
    const down = [0, 0, 0];
    sampleDirection(sky, 0, 1, 0, up);
    sampleDirection(sky, 0, -1, 0, down);
    expect(up[1]!).toBeGreaterThan(down[1]!);
  });

  it('a view straight ahead matches the map around its centre, and turning looks elsewhere', async () => {
    const env = await loadEnvironment('lobby');
    const ahead = reproject(env, { width: 9, height: 9, yaw: 0, pitch: 0, fov: 1 });
    const centre = [0, 0, 0];
    sampleDirection(env, 0, 0, -1, centre);
    for (let c = 0; c < 3; c++) expect(ahead.data[(4 * 9 + 4) * 3 + c]).toBeCloseTo(centre[c]!, 3);
    const right = reproject(env, { width: 9, height: 9, yaw: 90, pitch: 0, fov: 1 });
    const east = [0, 0, 0];
    sampleDirection(env, 1, 0, 0, east);
    for (let c = 0; c < 3; c++) expect(right.data[(4 * 9 + 4) * 3 + c]).toBeCloseTo(east[c]!, 3);
    const up = reproject(env, { width: 9, height: 9, yaw: 0, pitch: 45, fov: 1 });
    const raised = [0, 0, 0];
    sampleDirection(env, 0, Math.SQRT1_2, -Math.SQRT1_2, raised);
    for (let c = 0; c < 3; c++) expect(up.data[(4 * 9 + 4) * 3 + c]).toBeCloseTo(raised[c]!, 3);
  });

  it('tone maps to 8-bit sRGB without clipping highlights flat', () => {
    const hdr = { data: new Float32Array([0, 0.5, 1, 4, 40, 400]), width: 2, height: 1 };
    const out = toSrgb8(hdr);
    expect([...out.data.subarray(0, 2)]).toEqual([0, 188]);
    expect(out.data[2]!).toBeLessThan(out.data[3]!);
    expect(out.data[5]!).toBe(255);
  });
});
