import { describe, expect, it } from 'vitest';
import { planScene } from '../../plan/index.js';
import { srgbToLinearLut } from '../raster/color.js';
import { rgba8 } from '../raster/types.js';
import { grade, mirroredLights } from './render.js';

describe('colour grading', () => {
  it('keeps a pastel hue from its lit side into its shade and rolls highlights off without clipping a channel', () => {
    const plan = planScene('On a pastel pink seamless sweep, soft high-key studio light, catalogue shot');
    const pink = [0.86, 0.62, 0.64];
    const levels = [1.3, 1, 0.5, 0.2];
    const scene = new Float32Array(levels.length * 3);
    levels.forEach((k, i) => scene.set(pink.map((c) => c * k), i * 3));
    // 1.3: brighter than the white point after exposure
    const noVignette = { ...plan, grade: { ...plan.grade, vignette: 0 } };
    const out = grade(scene, levels.length, 1, noVignette);
    const lin = srgbToLinearLut();
    const ratios = levels.map((_, i) => (lin[out[i * 3 + 1]!]! / lin[out[i * 3]!]!));
    // green over red in linear light: the same pink in the light and in the shade
    const lit = ratios.slice(1);
    for (const r of lit) expect(r).toBeCloseTo(pink[1]! / pink[0]!, 1);
    expect(Math.max(...lit) - Math.min(...lit)).toBeLessThan(0.01);
    expect(out[3]).toBeLessThan(255);
    // overexposed, it pales toward white like film instead of turning a more saturated pink
    expect(ratios[0]).toBeGreaterThan(lit[0]!);
    expect(ratios[0]).toBeLessThan(1);
  });
});

describe('lights mirrored in a glossy surface', () => {
  it('streaks a light above the edge down into the surface below it, fading toward the camera', async () => {
    const W = 200;
    const H = 160;
    const edgeY = 80;
    const behind = Buffer.alloc(W * H * 4);
    // one warm bokeh disc above the surface's edge, at x 140
    for (let y = 50; y < 66; y++) for (let x = 132; x < 148; x++) behind.set([255, 200, 120, 255], (y * W + x) * 4);
    const m = (await mirroredLights(rgba8(behind, W, H), edgeY, 0.6))!;
    expect(m.top).toBe(edgeY);
    const alpha = (x: number, y: number) => m.data[((y - m.top) * W + x) * 4 + 3]!;
    const near = alpha(140, edgeY + 25);
    expect(near).toBeGreaterThan(20);
    expect(alpha(140, H - 4)).toBeLessThan(near);
    expect(alpha(40, edgeY + 25)).toBe(0);
    expect(await mirroredLights(rgba8(behind, W, H), edgeY, 0.6).then((r) => r!.data.equals(m.data))).toBe(true);
  });
});
