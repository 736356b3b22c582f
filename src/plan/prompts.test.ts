import { describe, expect, it } from 'vitest';
import { hexToRgb } from './colors.js';
import { planScene, type ScenePlan } from './index.js';

/**
 * Catalogue-manager prompts with what a photographer would take from each, scored per expectation.
 * The kinds: compound nouns whose modifier is not the subject ("glass with water droplets"),
 * negations, colour and palette words, light given by its shadow, light temperature words, and
 * style words, plus ordinary prompts. The planner must meet at least 95% of all expectations.
 */

type Family = keyof typeof FAMILIES;

/** Reference colours of the colour families a prompt can name; a plan colour belongs to the nearest. */
const FAMILIES = {
  white: '#f4f4f2', cream: '#efe4cc', beige: '#e2d4b8', sage: '#9caf88', terracotta: '#c46e4e', navy: '#1f2a44', charcoal: '#3a3b3e', black: '#1b1b1d',
  grey: '#8a8a8a', pink: '#e6b8bc', blue: '#5a86b8', green: '#2f6b4f', yellow: '#e6cf6a', brown: '#6e4a32', red: '#a8282c',
};

interface Expect {
  material?: ScenePlan['surface']['material'];
  from?: ScenePlan['light']['from'];
  /** warm: 4500 K or below; cool: 6000 K or above */
  temperature?: 'warm' | 'cool';
  steam?: 'none' | 'some';
  smoke?: 'none' | 'some';
  shadow?: boolean;
  reflection?: boolean;
  surface?: Family;
  backdrop?: Family;
  style?: ScenePlan['style'];
  environment?: ScenePlan['backdrop']['environment'];
  /** a name the palette must hold */
  palette?: string;
  time?: ScenePlan['light']['time_of_day'];
}

function family(hex: string): Family {
  const [r, g, b] = hexToRgb(hex);
  let best: Family = 'white';
  let bestD = Infinity;
  for (const [name, ref] of Object.entries(FAMILIES) as Array<[Family, string]>) {
    const [R, G, B] = hexToRgb(ref);
    const d = (r - R) ** 2 + (g - G) ** 2 + (b - B) ** 2;
    if (d < bestD) { bestD = d; best = name; }
  }
  return best;
}

/** What the plan shows for each expectation key, in the expectation's own terms. */
const READ: { [K in keyof Required<Expect>]: (p: ScenePlan) => Expect[K] } = {
  material: (p) => p.surface.material,
  from: (p) => p.light.from,
  temperature: (p) => (p.light.temperature <= 4500 ? 'warm' : p.light.temperature >= 6000 ? 'cool' : undefined),
  steam: (p) => (p.effects.steam === 0 ? 'none' : 'some'),
  smoke: (p) => (p.effects.smoke === 0 ? 'none' : 'some'),
  shadow: (p) => p.shadow.cast,
  reflection: (p) => p.reflection.enabled,
  surface: (p) => family(p.surface.color),
  backdrop: (p) => family(p.backdrop.color),
  style: (p) => p.style,
  environment: (p) => p.backdrop.environment,
  palette: (p) => p.palette.names.join(', '),
  time: (p) => p.light.time_of_day,
};

const PROMPTS: Array<[string, Expect]> = [
  // ---- compound nouns: the modifier is not the subject ----
  ['Place the bottle on a glass surface with water droplets', { material: 'glass' }],
  ['Perfume on a black mirror with water droplets, moody', { material: 'mirror' }],
  ['serum bottle on wet slate with water drops', { material: 'slate' }],
  ['Show the candle on a wooden tray with sand scattered around', { material: 'wood' }],
  ['Sneaker on a concrete floor with a metal railing behind', { material: 'concrete' }],
  ['Place the mug on a linen napkin on a marble countertop', { material: 'linen' }],
  ['Watch on a marble slab with a brass tray in the background', { material: 'marble' }],
  ['Cup on an oak table beside a glass of water', { material: 'wood' }],
  ['Lotion on a travertine plinth with dried palm leaves', { material: 'stone' }],
  ['Whisky bottle on a walnut bar top with ice cubes and a glass', { material: 'wood' }],
  ['Place the soap on a stone ledge by a water basin', { material: 'stone' }],
  ['Skincare jar on a water-stained concrete slab', { material: 'concrete' }],
  ['Headphones on a desk next to a metal lamp', { material: 'wood' }],
  ['Lipstick on a pink acrylic block with glass beads', { material: 'glass' }],
  ['Coffee bag on a burlap sack with coffee beans, wooden table', { material: 'linen' }],
  ['Sunscreen on beach sand with seashells and a water bottle', { material: 'sand' }],
  ['Ring on a velvet cushion with a mirror behind', { material: 'linen' }],
  ['Tea tin on a bamboo mat beside a glass teapot', { material: 'wood' }],
  ['Show the kettle on a marble kitchen counter with copper pans hanging', { material: 'marble' }],
  ['Perfume on a rippling water surface with stones', { material: 'water' }],
  // ---- negations ----
  ['Coffee mug on a wooden table, no steam', { steam: 'none', material: 'wood' }],
  ['Tea cup on linen without steam, morning light', { steam: 'none', time: 'morning' }],
  ['Hot chocolate on a cafe counter, no steam or smoke', { steam: 'none', smoke: 'none' }],
  ['Bottle on white paper, no shadow', { shadow: false }],
  ['Product on a white background without shadows, e-commerce', { shadow: false, style: 'catalogue' }],
  ['Watch on black glass without reflections', { reflection: false, material: 'glass' }],
  ['Sunglasses on a mirror, no reflection please', { reflection: false }],
  ['Place the candle on marble, no smoke, soft light', { smoke: 'none', material: 'marble' }],
  ['Espresso cup on slate with steam', { steam: 'some', material: 'slate' }],
  ['Bowl of ramen on a dark wooden table with rising steam', { steam: 'some' }],
  ['Tumbler on concrete, no harsh shadows, no reflections', { reflection: false }],
  ['Serum on glossy acrylic with no reflection', { reflection: false }],
  ['Mug on a table, steam-free, clean catalogue look', { steam: 'none', style: 'catalogue' }],
  ['Teapot on wood, please remove the steam', { steam: 'none' }],
  ['Jar on a marble slab, no shadow and no reflection', { shadow: false, reflection: false }],
  ['Soup bowl on a linen cloth, without any steam', { steam: 'none', material: 'linen' }],
  ['Perfume on glass, shadow-free, white background', { shadow: false }],
  ['Incense holder on slate, no smoke, warm light', { smoke: 'none', temperature: 'warm' }],
  // ---- colour and palette words ----
  ['Place the bottle on a beige backdrop', { backdrop: 'beige' }],
  ['Vase against a sage green wall', { backdrop: 'sage' }],
  ['Candle on a terracotta plinth against a cream wall', { backdrop: 'cream' }],
  ['Sneaker on a navy background', { backdrop: 'navy' }],
  ['Mug on a beige linen tablecloth', { surface: 'beige', material: 'linen' }],
  ['Lipstick on a terracotta surface', { surface: 'terracotta' }],
  ['Bottle on a navy blue backdrop with gold accents', { backdrop: 'navy' }],
  ['Serum on a sage backdrop, soft light', { backdrop: 'sage' }],
  ['Soap in a sage and cream palette', { palette: 'sage' }],
  ['Perfume with a terracotta and beige colour palette', { palette: 'terracotta' }],
  ['Candle, navy and gold palette, luxury', { palette: 'navy', style: 'luxury' }],
  ['Jar on a pale pink background', { backdrop: 'pink' }],
  ['Headphones on a charcoal grey backdrop', { backdrop: 'charcoal' }],
  ['Bottle against an off-white seamless', { backdrop: 'white' }],
  ['Watch on black marble against a navy wall', { backdrop: 'navy', material: 'marble' }],
  ['Mug on a mustard yellow backdrop', { backdrop: 'yellow' }],
  ['Sneaker on a terracotta backdrop with a sage floor', { backdrop: 'terracotta' }],
  ['Tea box on a cream background with sage accents', { backdrop: 'cream', palette: 'sage' }],
  ['Lotion on an oatmeal linen surface, beige palette', { surface: 'beige', material: 'linen' }],
  ['Place the handbag on a warm beige backdrop', { backdrop: 'beige' }],
  ['Sneaker on a deep navy backdrop', { backdrop: 'navy' }],
  ['Serum on a light sage background', { backdrop: 'sage' }],
  ['Bottle with a sage and cream colour scheme, soft daylight', { palette: 'cream' }],
  ['Ceramic bowl on a beige linen runner against a terracotta wall', { backdrop: 'terracotta', material: 'linen' }],
  // ---- light given by its shadow ----
  ['Bottle on white paper, shadow from the right', { from: 'left' }],
  ['Mug on wood with shadows falling left', { from: 'right' }],
  ['Candle on marble, shadow falling to the right', { from: 'left' }],
  ['Perfume with a long shadow to the left', { from: 'right' }],
  ['Sneaker on concrete, shadows cast to the right', { from: 'left' }],
  ['Jar on linen, shadow on the left side', { from: 'right' }],
  ['Watch on slate, light from the right', { from: 'right' }],
  ['Serum on travertine lit from the left', { from: 'left' }],
  ['Cup on oak, shadow toward the left', { from: 'right' }],
  ['Vase on plaster, shadows to the right, soft light', { from: 'left' }],
  ['Bottle on stone with the sun coming from the left', { from: 'left' }],
  ['Place the soap on terrazzo, window light from the right', { from: 'right' }],
  ['Product on the left, shadow falling right', { from: 'left' }],
  ['Tumbler on metal, backlit', { from: 'back' }],
  ['Candle on wood, light from above', { from: 'top' }],
  ['Mug on a table with the shadow coming from the left', { from: 'right' }],
  ['Bottle on paper, shadows falling to the left, warm light', { from: 'right', temperature: 'warm' }],
  // ---- light temperature ----
  ['Mug on a wooden table in warm natural light', { temperature: 'warm' }],
  ['Serum on glass in cool daylight', { temperature: 'cool' }],
  ['Candle on marble, warm light', { temperature: 'warm' }],
  ['Perfume on a mirror, cool light', { temperature: 'cool' }],
  ['Teapot on linen, warm window light from the left', { temperature: 'warm', from: 'left' }],
  ['Bottle on concrete with cool blue light', { temperature: 'cool' }],
  ['Whisky on walnut, warm tungsten lighting', { temperature: 'warm' }],
  ['Skincare on white tiles, cold clinical light', { temperature: 'cool' }],
  ['Coffee bag on a cafe counter, warm golden light', { temperature: 'warm' }],
  ['Watch on steel in crisp cool lighting', { temperature: 'cool' }],
  ['Bread on a cutting board, warm morning sunlight', { temperature: 'warm', material: 'wood' }],
  ['Sunglasses on sand at golden hour', { temperature: 'warm', time: 'golden-hour', material: 'sand' }],
  ['Lamp on a nightstand with warm candlelight', { temperature: 'warm' }],
  ['Vase on stone, cool overcast daylight', { temperature: 'cool' }],
  ['Jar on marble with warm soft light from the right', { temperature: 'warm', from: 'right' }],
  // ---- style words ----
  ['Bottle on white, e-commerce clean', { style: 'catalogue' }],
  ['Sneaker, catalogue shot on a white sweep', { style: 'catalogue' }],
  ['Perfume on marble, editorial', { style: 'editorial' }],
  ['Mug, clean e-commerce product shot', { style: 'catalogue' }],
  ['Handbag, editorial magazine look, dramatic light', { style: 'editorial' }],
  ['Watch, luxury look on black marble', { style: 'luxury', material: 'marble' }],
  ['Candle, minimalist on concrete', { style: 'minimal', material: 'concrete' }],
  ['Lotion, lifestyle shot in a bathroom', { style: 'lifestyle' }],
  ['Tea tin, flat lay on linen', { style: 'flat-lay', material: 'linen' }],
  ['Headphones, amazon listing image, pure white background', { style: 'catalogue', backdrop: 'white' }],
  ['Serum, catalog packshot, no shadow', { style: 'catalogue', shadow: false }],
  ['Ring, editorial style on a stone slab, warm light', { style: 'editorial', material: 'stone', temperature: 'warm' }],
  ['Sneaker, clean ecommerce white background with soft shadow', { style: 'catalogue' }],
  ['Bottle, studio shot on grey paper', { style: 'studio', material: 'paper' }],
  ['Chair in a living room, lifestyle', { style: 'lifestyle', environment: 'living-room' }],
  ['Serum, modern editorial look on travertine', { style: 'editorial', material: 'stone' }],
  ['Mug, simple catalogue image on white', { style: 'catalogue' }],
  // ---- ordinary prompts ----
  ['Place this exact white ceramic mug on a dark slate surface with dramatic side lighting', { material: 'slate', from: 'left' }],
  ['Put the bottle on a marble vanity in a bathroom, soft morning light', { material: 'marble', time: 'morning' }],
  ['Coffee dripper on a wooden cafe counter, blurred cafe behind', { material: 'wood', environment: 'cafe' }],
  ['Sneaker on concrete in a city street at night', { material: 'concrete', time: 'night' }],
  ['Candle on linen, warm cozy evening', { material: 'linen', temperature: 'warm' }],
  ['Perfume floating above water, misty', { material: 'none' }],
  ['Watch on brushed steel, hard light from the left', { material: 'metal', from: 'left' }],
  ['Jar on terrazzo with palm leaf shadows', { material: 'terrazzo' }],
  ['Bottle on glass with reflection, dark background', { material: 'glass', reflection: true, backdrop: 'black' }],
  ['Teapot on a kitchen counter in a sunny kitchen', { environment: 'kitchen' }],
  ['Show the face cream on a white marble bathroom shelf with a eucalyptus sprig, soft daylight', { material: 'marble', environment: 'bathroom' }],
  ['Put the sneakers on a wet asphalt street with neon reflections at night', { time: 'night' }],
  ['Place the wine bottle on an oak barrel top, warm candlelit cellar mood', { material: 'wood', temperature: 'warm' }],
  ['Sunglasses on a terracotta tile with harsh noon sun from the right', { from: 'right', time: 'noon', surface: 'terracotta' }],
  ['Earrings on a grey stone with no reflections and soft shadows', { material: 'stone', reflection: false }],
  ['Protein tub, e-commerce white background, no props, no shadow', { style: 'catalogue', shadow: false, backdrop: 'white' }],
  ['Bottle on a glass shelf with water splashes, cool light', { material: 'glass', temperature: 'cool' }],
  ['Cookie jar on a beige linen cloth with shadows falling to the right', { material: 'linen', from: 'left', surface: 'beige' }],
];

describe('the planner reads product-photography prompts', () => {
  it(`meets at least 95% of the expectations of ${PROMPTS.length} prompts`, () => {
    let total = 0;
    const misses: string[] = [];
    for (const [prompt, expected] of PROMPTS) {
      const plan = planScene(prompt);
      for (const [key, want] of Object.entries(expected) as Array<[keyof Expect, Expect[keyof Expect]]>) {
        total++;
        const got = READ[key](plan);
        const ok = key === 'palette' ? String(got).split(', ').includes(String(want)) : got === want;
        if (!ok) misses.push(`${prompt} → ${key}: want ${String(want)}, got ${String(got)}`);
      }
    }
    const score = (total - misses.length) / total;
    console.log(`planner prompt table: ${(score * 100).toFixed(1)}% of ${total} expectations met (${PROMPTS.length} prompts)${misses.length ? `\nmisses:\n  ${misses.join('\n  ')}` : ''}`);
    expect(PROMPTS.length).toBeGreaterThanOrEqual(100);
    expect(score).toBeGreaterThanOrEqual(0.95);
  });
});
