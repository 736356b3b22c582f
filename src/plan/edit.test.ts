import { describe, expect, it } from 'vitest';
import { editPlan, planScene } from './index.js';
import { rolesFromPrompt } from './roles.js';

const base = planScene('on dark slate, dramatic side light with a soft steam wisp');
const changed = (prompt: string) => editPlan(base, prompt).changes!.map((c) => c.path).sort();

describe('relative edits', () => {
  it.each([
    ['make the light warmer', ['grade.warmth', 'light.temperature']],
    ['cooler light', ['grade.warmth', 'light.temperature']],
    ['light from the right instead', ['light.azimuth', 'light.from', 'shadow.direction']],
    ['darker background', ['backdrop.color']],
    ['lighter backdrop', ['backdrop.color']],
    ['move the product to the left third', ['framing.position']],
    ['remove the steam', ['effects.steam']],
    ['more steam', ['effects.steam']],
    ['zoom out a bit', ['framing.size']],
    ['bigger', ['framing.size']],
    ['brighter light', ['grade.exposure', 'light.intensity']],
    ['darker', ['grade.exposure', 'light.intensity']],
    ['softer shadow', ['shadow.softness']],
    ['harder shadows', ['shadow.softness']],
    ['no shadow', ['shadow.cast', 'shadow.contact']],
    ['softer light', ['light.hardness', 'shadow.softness']],
    ['more contrast', ['light.contrast']],
  ])('"%s" changes only %j', (prompt, paths) => {
    expect(changed(prompt)).toEqual(paths);
  });

  it('moves values the right way and records from → to', () => {
    const warm = editPlan(base, 'make the light warmer');
    expect(warm.light.temperature).toBeLessThan(base.light.temperature);
    expect(warm.changes).toContainEqual({ path: 'light.temperature', from: base.light.temperature, to: warm.light.temperature });
    expect(editPlan(base, 'zoom out a bit').framing.size).toBeLessThan(base.framing.size);
    expect(editPlan(base, 'zoom out a lot').framing.size).toBeLessThan(editPlan(base, 'zoom out a bit').framing.size);
    expect(editPlan(base, 'light from the right instead').light).toMatchObject({ from: 'right', azimuth: 90, elevation: base.light.elevation });
    expect(editPlan(base, 'remove the steam').effects.steam).toBe(0);
    expect(editPlan(base, 'move the product to the left third').framing.position).toBe('left-third');
  });

  it('"now on white marble" swaps the surface (and its reflection), nothing else', () => {
    const e = editPlan(base, 'now on white marble');
    expect(e.surface.material).toBe('marble');
    expect(e.surface.tone).toBe('light');
    const paths = e.changes!.map((c) => c.path);
    expect(paths.every((p) => p.startsWith('surface.') || p.startsWith('reflection.'))).toBe(true);
    expect(e.light).toEqual(base.light);
    expect(e.effects).toEqual(base.effects);
  });

  it('a full description sets what it names and keeps the rest', () => {
    const e = editPlan(base, 'on a wooden cafe counter with a blurred cafe behind it, morning light');
    expect(e.surface.material).toBe('wood');
    expect(e.backdrop.environment).toBe('cafe');
    expect(e.light.time_of_day).toBe('morning');
    expect(e.effects.steam).toBe(base.effects.steam);
    expect(e.light.from).toBe(base.light.from);
  });

  it('chains: each turn edits the last', () => {
    let p = base;
    for (const prompt of ['make the light warmer', 'make the light warmer', 'cooler']) p = editPlan(p, prompt);
    expect(p.light.temperature).toBe(base.light.temperature - 900);
    expect(p.changes).toEqual([{ path: 'light.temperature', from: base.light.temperature - 1800, to: base.light.temperature - 900 }, expect.objectContaining({ path: 'grade.warmth' })]);
  });

  it('input.scene wins over the edit', () => {
    expect(editPlan(base, 'make the light warmer', { scene: { light: { temperature: 6500 } } }).light.temperature).toBe(6500);
  });
});

describe('roles from the prompt', () => {
  it.each([
    ['place the product from image 1 on the table in image 2', 2, ['product', 'scene']],
    ['in the style of the third image', 3, [undefined, undefined, 'style']],
    ['use the second image as the background', 2, [undefined, 'scene']],
    ['put the bottle in the first photo into the room in the second photo, in the style of image 3', 3, ['product', 'scene', 'style']],
    ['on dark slate with side light', 2, [undefined, undefined]],
    ['image 7 as the background', 2, [undefined, undefined]],
  ])('"%s"', (prompt, n, roles) => {
    expect(rolesFromPrompt(prompt, n)).toEqual(roles);
  });
});
