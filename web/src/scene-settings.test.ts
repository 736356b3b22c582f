import { describe, expect, it } from 'vitest';
import { SceneOverrideSchema } from '../../src/contract/scene.js';
import { planScene } from '../../src/plan/index.js';
import { PRESETS } from './presets.js';
import { readPrompt } from './planner.js';
import { EMPTY_SCENE, kelvinToWarmth, sceneOverride, variantScenes, warmthToKelvin } from './scene-settings.js';

const SLATE = PRESETS[0]!.prompt;

describe('fine controls → input.scene', () => {
  it('sends nothing until a control is touched, then only what was touched', () => {
    expect(sceneOverride(EMPTY_SCENE)).toBeUndefined();
    expect(sceneOverride({ ...EMPTY_SCENE, hardness: 0.8 })).toEqual({ light: { hardness: 0.8 } });
    expect(sceneOverride({ ...EMPTY_SCENE, backdrop: 'environment:cafe', size: 0.5 })).toEqual({
      backdrop: { kind: 'environment', environment: 'cafe' },
      framing: { size: 0.5 },
    });
    expect(sceneOverride({ ...EMPTY_SCENE, shadow: 0 })).toEqual({ shadow: { cast: false, contact: false, opacity: 0 } });
  });

  it('maps the warmth slider to a colour temperature and back', () => {
    expect(warmthToKelvin(0)).toBe(5500);
    expect(warmthToKelvin(1)).toBe(2700);
    expect(warmthToKelvin(-1)).toBe(8300);
    for (const w of [-1, -0.5, 0, 0.3, 1]) expect(kelvinToWarmth(warmthToKelvin(w))).toBeCloseTo(w, 1);
    // a plan colder or warmer than the slider reaches stays at its end
    expect(kelvinToWarmth(12000)).toBe(-1);
  });

  it('every override the controls make is one the server accepts, and the planner applies it', () => {
    const settings = { ...EMPTY_SCENE, azimuth: 90, hardness: 0.9, warmth: 0.5, material: 'marble', backdrop: 'plaster', shadow: 0.4, size: 0.6 };
    const scene = sceneOverride(settings)!;
    expect(SceneOverrideSchema.safeParse(scene).success).toBe(true);
    const { plan, problem } = readPrompt(SLATE, scene);
    expect(problem).toBeNull();
    expect(plan!.light).toMatchObject({ azimuth: 90, from: 'right', hardness: 0.9, temperature: warmthToKelvin(0.5) });
    expect(plan!.surface.material).toBe('marble');
    expect(plan!.framing.size).toBe(0.6);
  });
});

describe('4 variants', () => {
  const plan = planScene(SLATE);
  const variants = variantScenes(plan);
  const planned = variants.map((v) => planScene(SLATE, { scene: v.scene }));

  it('are four valid input.scene overrides with distinct labels', () => {
    expect(variants).toHaveLength(4);
    expect(new Set(variants.map((v) => v.label)).size).toBe(4);
    for (const v of variants) expect(SceneOverrideSchema.safeParse(v.scene).success, JSON.stringify(v.scene)).toBe(true);
  });

  it('each moves what a photographer would: light side and height, camera height and crop, surface tone', () => {
    const [light, low, high, side] = planned as [typeof plan, typeof plan, typeof plan, typeof plan];
    expect(Math.sign(light.light.azimuth)).toBe(-Math.sign(plan.light.azimuth));
    expect(light.light.elevation).toBeGreaterThan(plan.light.elevation);
    expect(low.framing.camera).toBe('low');
    expect(low.framing.size).toBeGreaterThan(plan.framing.size);
    expect(high.framing.camera).toBe('high');
    expect(high.framing.size).toBeLessThan(plan.framing.size);
    expect(side.light.elevation).toBe(12);
    // the slate is dark: the fourth take lightens it
    expect(plan.surface.tone).toBe('dark');
    expect(side.surface.tone).toBe('light');
    expect(side.surface.color).not.toBe(plan.surface.color);
  });

  it('keep the rest of the scene: the surface material, the backdrop kind and the effects are the prompt\'s', () => {
    for (const p of planned) {
      expect(p.surface.material).toBe(plan.surface.material);
      expect([p.backdrop.kind, p.backdrop.environment]).toEqual([plan.backdrop.kind, plan.backdrop.environment]);
      expect(p.effects).toEqual(plan.effects);
    }
  });

  it('keep what the turn itself sent, merged under each take', () => {
    const sent = { light: { hardness: 0.2 }, backdrop: { kind: 'plaster' as const } };
    for (const v of variantScenes(plan, sent)) {
      expect(v.scene.backdrop).toEqual({ kind: 'plaster' });
      expect(v.scene.light?.hardness).toBe(0.2);
    }
  });

  it('swing a front light to one side, and do not tint a floating product\'s missing surface', () => {
    const front = planScene('on white paper, soft light from the front');
    expect(Math.abs(variantScenes(front)[0]!.scene.light!.azimuth!)).toBe(60);
    const floating = planScene('floating, no surface, pastel gradient backdrop');
    if (floating.surface.material === 'none') expect(variantScenes(floating)[3]!.scene.surface).toBeUndefined();
  });
});
