import { describe, expect, it } from 'vitest';
import { planScene } from '../../plan/index.js';
import { MATERIALS } from '../../plan/presets.js';
import { createSurfaceShader } from './surface.js';

describe('surface shaders', () => {
  // A grid of points across and into the surface at several footprints, for every material and a
  // few seeds: every albedo must be a finite, non-negative number (a bad index once made NaN chips).
  it.each(Object.keys(MATERIALS))('%s shades every point to finite colour', (material) => {
    for (const seed of [1, 7, 0xdeadbeef]) {
      const plan = planScene(`on ${material}`, { scene: { surface: { material } } });
      const shade = createSurfaceShader(plan.surface, seed);
      const out = new Float32Array(3);
      for (let x = -40; x <= 40; x += 0.37) {
        for (const z of [0, 0.5, 3, 12, 40]) {
          for (const fp of [0.001, 0.02, 0.3]) {
            shade(x, z, fp, out);
            for (const v of out) {
              expect(Number.isFinite(v) && v >= 0).toBe(true);
            }
          }
        }
      }
    }
  });
});
