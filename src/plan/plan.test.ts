import { describe, expect, it } from 'vitest';
import { SceneOverrideSchema } from '../contract/scene.js';
import { validateCreateBody } from '../contract/validate.js';
import { planScene, ScenePlanError } from './index.js';

const EDITORIAL = 'Place this exact white ceramic pour-over dripper on a dark slate stone surface with dramatic side lighting and a soft steam wisp, moody editorial product photography, keep the product shape and color unchanged';
const LIFESTYLE = 'Place this exact white ceramic pour-over dripper on a wooden cafe counter with a blurred warm cafe interior behind it, morning light, lifestyle product photography, keep the product shape and color unchanged';

describe('planScene', () => {
  it('reads the editorial seed prompt', () => {
    const p = planScene(EDITORIAL);
    expect(p.surface).toMatchObject({ material: 'slate', tone: 'dark' });
    expect(p.light).toMatchObject({ from: 'left', azimuth: -90 });
    expect(p.mood).toEqual(expect.arrayContaining(['dramatic', 'moody']));
    expect(p.style).toBe('editorial');
    expect(p.effects.steam).toBeGreaterThan(0.2);
    expect(p.effects.steam).toBeLessThan(0.7); // "soft" steam
    expect(p.shadow.direction).toBe(90); // falls to the right
    expect(p.product.description).toBe('white ceramic pour-over dripper');
    expect(p.words.unused).toEqual([]);
  });

  it('reads the lifestyle seed prompt', () => {
    const p = planScene(LIFESTYLE);
    expect(p.surface.material).toBe('wood');
    expect(p.backdrop).toMatchObject({ kind: 'environment', environment: 'cafe' });
    expect(p.backdrop.blur).toBeGreaterThanOrEqual(0.7);
    expect(p.light.time_of_day).toBe('morning');
    expect(p.style).toBe('lifestyle');
    expect(p.mood).toContain('warm');
    expect(p.grade.warmth).toBeGreaterThan(0.2);
  });

  it('understands synonyms and phrases', () => {
    for (const word of ['counter', 'tabletop', 'bench top']) expect(planScene(`a mug on a ${word}`).surface.material).toBe('wood');
    expect(planScene('side-lit bottle').light.from).toBe('left');
    expect(planScene('light from the left').light.from).toBe('left');
    expect(planScene('lit from the right').light.from).toBe('right');
    expect(planScene('backlit perfume').light).toMatchObject({ from: 'back', rim: { enabled: true } });
    expect(planScene('overhead light').light.from).toBe('top');
    expect(planScene('light from the upper left').light.from).toBe('top-left');
    expect(planScene('on calacatta').surface).toMatchObject({ material: 'marble', tone: 'light' });
    expect(planScene('in a coffee shop').backdrop.environment).toBe('cafe');
    expect(planScene('golden hour').light.time_of_day).toBe('golden-hour');
    expect(planScene('flat lay on linen').framing).toMatchObject({ camera: 'high', horizon: 0 });
    expect(planScene('palm leaf shadows').light.pattern).toBe('leaves');
    expect(planScene('shadows falling to the left').light.from).toBe('right');
  });

  it('puts colours on what they describe, and into the palette otherwise', () => {
    const p = planScene('on a pastel pink seamless backdrop with sage accents');
    expect(p.backdrop.kind).toBe('sweep');
    expect(p.backdrop.color).not.toBe('#ffc0cb');
    expect(p.palette.names).toContain('sage');
    expect(planScene('on white marble').surface.color).toBe('#f7f6f3');
    expect(planScene('terracotta wall').backdrop).toMatchObject({ kind: 'wall', color: '#c8724f' });
  });

  it('tells framing directions from light directions', () => {
    expect(planScene('product on the left, light from the right')).toMatchObject({ framing: { position: 'left' }, light: { from: 'right' } });
    expect(planScene('placed in the right third').framing.position).toBe('right-third');
  });

  it('applies negation to the phrase after it and joined ones', () => {
    const p = planScene('on slate, no shadow, without steam or bokeh, soft light');
    expect(p.shadow.cast).toBe(false);
    expect(p.shadow.contact).toBe(false);
    expect(p.effects.steam).toBe(0);
    expect(p.effects.bokeh).toBe(0);
    expect(p.light.hardness).toBe(0.2); // after the comma the negation ends
    expect(planScene('city at night, no bokeh').effects.bokeh).toBe(0);
    expect(planScene('no harsh shadows').shadow.softness).toBeGreaterThan(0.7);
  });

  it('reports the words it did not use', () => {
    const p = planScene('a bottle on marble with glorbish vibes and quantum sparkle');
    expect(p.words.unused).toEqual(['glorbish', 'quantum']);
    expect(p.product.description).toBe('bottle');
    expect(p.words.understood.some((w) => w.text === 'marble' && w.fields.includes('surface.material'))).toBe(true);
  });

  it('reads a prompt that opens with the product as the product, its colour included: not the scene\'s palette', () => {
    const p = planScene('a green bottle on dark slate with rising steam');
    expect(p.product.description).toBe('green bottle');
    expect(p.palette.names).toEqual([]);
    expect(p.surface.material).toBe('slate');
    expect(planScene('two cups of coffee in a warm cafe').product.description).toBe('two cups of coffee');
    // a noun the scene vocabulary knows is the scene's: a wooden table is what the product stands on
    const table = planScene('wooden table in a sunny kitchen');
    expect(table.product.description).toBe('');
    expect(table.surface.material).toBe('wood');
    // colour words with no product noun stay the scene's
    expect(planScene('green leaves around, on marble').palette.names).toEqual(['green']);
  });

  it('reads a quality word before a side light as both: hard, and from the side (then from where it says)', () => {
    const hard = planScene('on concrete, hard side light from the right');
    expect([hard.light.from, hard.light.hardness, hard.words.unused]).toEqual(['right', planScene('hard light').light.hardness, []]);
    const soft = planScene('soft side lighting');
    expect([soft.light.from, soft.light.hardness]).toEqual(['left', planScene('soft light').light.hardness]);
  });

  it('lets explicit scene settings win, with derived values following', () => {
    const p = planScene(EDITORIAL, { scene: { light: { from: 'right' }, surface: { material: 'marble' }, effects: { steam: 0 } } });
    expect(p.light.from).toBe('right');
    expect(p.light.azimuth).toBe(90);
    expect(p.shadow.direction).toBe(-90);
    expect(p.surface.material).toBe('marble');
    expect(p.effects.steam).toBe(0);
    const q = planScene('light from the left', { scene: { light: { azimuth: 45 } } });
    expect(q.light.from).toBe('front-right');
  });

  it('rejects unknown or invalid scene keys with their path', () => {
    expect(() => planScene('x', { scene: { light: { colour: 'red' } } })).toThrow(ScenePlanError);
    expect(() => planScene('x', { scene: { light: { colour: 'red' } } })).toThrow(/scene\.light: .*colour/);
    expect(SceneOverrideSchema.safeParse({ framing: { size: 3 } }).success).toBe(false);
    const body = { model: 'gpt-image-2-image-to-image', input: { prompt: 'p', input_urls: ['https://example.com/a.png'], scene: { surface: { materal: 'wood' } } } };
    expect(() => validateCreateBody(body)).toThrow(/input\.scene\.surface: .*materal/);
  });

  it('leaves heroes generous negative space and lifestyle shots room for the scene', () => {
    const editorial = planScene(EDITORIAL).framing.size;
    const lifestyle = planScene(LIFESTYLE).framing.size;
    const catalogue = planScene('pastel pink seamless sweep, catalogue shot').framing.size;
    expect(editorial).toBeGreaterThanOrEqual(0.5);
    expect(editorial).toBeLessThanOrEqual(0.6);
    expect(lifestyle).toBeLessThan(editorial - 0.05);
    expect(catalogue).toBeGreaterThan(editorial);
    // a night city hero stays the subject against the bokeh
    expect(planScene('on a dark stone ledge, city lights at night').framing.size).toBeGreaterThanOrEqual(editorial);
    // a projected pattern needs room around the product to read
    expect(planScene('on a light oak table, window light from the left casting window frame shadows').framing.size).toBeLessThanOrEqual(0.5);
    // size words still win over the style's default
    expect(planScene('editorial, close-up').framing.size).toBeGreaterThan(0.7);
    expect(planScene('lifestyle, small in frame').framing.size).toBeLessThan(0.4);
    expect(planScene(EDITORIAL, { scene: { framing: { size: 0.8 } } }).framing.size).toBe(0.8);
  });

  it('shoots a flat lay as an overhead still, the light from the far side', () => {
    const p = planScene('Flat lay on natural linen, top-down, soft daylight from the upper left');
    expect(p.style).toBe('flat-lay');
    expect(p.framing).toMatchObject({ camera: 'high', horizon: 0 });
    expect(p.surface.material).toBe('linen');
    // "upper left" of an overhead frame is the back left: the shadow falls toward the front right
    expect(p.light.from).toBe('top-left');
    expect(p.light.azimuth).toBeLessThan(-100);
    expect(p.shadow.direction).toBeGreaterThan(0);
    expect(p.shadow.direction).toBeLessThan(90);
    // an explicit top-down camera is kept, for products photographed from above
    expect(planScene('flat lay', { scene: { framing: { camera: 'top-down' } } }).framing.camera).toBe('top-down');
  });

  it('is deterministic and complete for an empty prompt', () => {
    expect(planScene('')).toEqual(planScene(''));
    expect(planScene('').style).toBe('studio');
  });
});
