import { describe, expect, it } from 'vitest';
import { planScene } from '../plan/index.js';
import { srgbToLinearLut } from './color.js';
import { grade } from './render.js';

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
