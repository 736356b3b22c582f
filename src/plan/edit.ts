import { ScenePlanSchema, type ScenePlan } from '../contract/scene.js';
import { mixHex, toneOf } from './colors.js';
import { mergePlan } from './merge.js';
import { readPrompt, type UnderstoodWord } from './parse.js';
import { DIRECTIONS, EDIT_STEPS as STEP } from './presets.js';
import { resolvePlan } from './resolve.js';
import type { Draft } from './vocabulary.js';

/**
 * Relative edits of an earlier plan (multi-turn): "make the light warmer", "darker background",
 * "zoom out a bit" move the parent's values; absolute words ("now on white marble", "light from the
 * right instead") replace only the fields they name, with what a fresh plan would derive for them.
 * Everything else stays as it was. Pure TypeScript (the web studio bundles it).
 */

export interface PlanChange {
  path: string;
  from: unknown;
  to: unknown;
}

type Plan = ScenePlan;
type Apply = (p: Plan, amount: number, match: RegExpMatchArray) => void;

interface Rule {
  re: RegExp;
  fields: string[];
  apply: Apply;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const r2 = (v: number) => Math.round(v * 100) / 100;

const SURFACE_NOUNS = '(?:surface|table|tabletop|counter|countertop|floor|ground|slab|board|wood|marble|slate|stone|concrete|linen|base|plinth)';
const BACKDROP_NOUNS = '(?:background|backdrop|wall|sweep|backgrounds|scene behind|room)';
const EFFECT_NAMES = '(steam|smoke|mist|fog|haze|dust|bokeh|rays)';
const EFFECT_KEY: Record<string, keyof Plan['effects']> = { steam: 'steam', smoke: 'smoke', mist: 'mist', fog: 'mist', haze: 'haze', dust: 'dust', bokeh: 'bokeh', rays: 'rays' };

const warmer: Apply = (p, a) => {
  p.light.temperature = Math.round(clamp(p.light.temperature - STEP.temperature * a, STEP.minKelvin, STEP.maxKelvin));
  p.grade.warmth = r2(clamp(p.grade.warmth + STEP.warmth * a, -1, 1));
};
const cooler: Apply = (p, a) => {
  p.light.temperature = Math.round(clamp(p.light.temperature + STEP.temperature * a, STEP.minKelvin, STEP.maxKelvin));
  p.grade.warmth = r2(clamp(p.grade.warmth - STEP.warmth * a, -1, 1));
};
const exposure = (sign: number): Apply => (p, a) => {
  p.light.intensity = r2(clamp(p.light.intensity + sign * STEP.intensity * a, 0, STEP.maxIntensity));
  p.grade.exposure = r2(clamp(p.grade.exposure + sign * STEP.exposure * a, -1, 1));
};
const backdropTone = (towards: string): Apply => (p, a) => { p.backdrop.color = mixHex(p.backdrop.color, towards, clamp(STEP.toneMix * a, 0, STEP.maxToneMix)); };
const surfaceTone = (towards: string): Apply => (p, a) => {
  p.surface.color = mixHex(p.surface.color, towards, clamp(STEP.toneMix * a, 0, STEP.maxToneMix));
  p.surface.tone = toneOf(p.surface.color);
};
const hardness = (sign: number): Apply => (p, a) => {
  p.light.hardness = r2(clamp(p.light.hardness + sign * STEP.hardness * a, 0, 1));
  p.shadow.softness = r2(clamp(p.shadow.softness - sign * STEP.softnessWithLight * a, 0, 1));
};
const size = (factor: number): Apply => (p, a) => { p.framing.size = r2(clamp(p.framing.size * (1 + (factor - 1) * a), STEP.minSize, STEP.maxSize)); };

/** Relative phrases, most specific first; each consumes its words so the absolute reading skips them. */
const RULES: Rule[] = [
  { re: new RegExp(`\\b(?:darker|dimmer|deeper|darken(?: the)?) ${BACKDROP_NOUNS}\\b|\\b${BACKDROP_NOUNS} (?:is )?(?:darker|dimmer)\\b|\\bdarken the ${BACKDROP_NOUNS}\\b`, 'g'), fields: ['backdrop.color'], apply: backdropTone('#000000') },
  { re: new RegExp(`\\b(?:lighter|brighter|paler|lighten(?: the)?|brighten(?: the)?) ${BACKDROP_NOUNS}\\b|\\b${BACKDROP_NOUNS} (?:is )?(?:lighter|brighter)\\b`, 'g'), fields: ['backdrop.color'], apply: backdropTone('#ffffff') },
  { re: new RegExp(`\\b(?:darker|deeper) ${SURFACE_NOUNS}\\b`, 'g'), fields: ['surface.color', 'surface.tone'], apply: surfaceTone('#000000') },
  { re: new RegExp(`\\b(?:lighter|paler|brighter) ${SURFACE_NOUNS}\\b`, 'g'), fields: ['surface.color', 'surface.tone'], apply: surfaceTone('#ffffff') },
  { re: /\b(?:softer|blurrier|gentler|more diffused?|diffuser) shadows?\b|\bsoften the shadows?\b|\bshadows? softer\b/g, fields: ['shadow.softness'], apply: (p, a) => { p.shadow.softness = r2(clamp(p.shadow.softness + STEP.shadowSoftness * a, 0, 1)); } },
  { re: /\b(?:harder|sharper|crisper|harsher) shadows?\b|\bshadows? (?:harder|sharper|crisper)\b/g, fields: ['shadow.softness'], apply: (p, a) => { p.shadow.softness = r2(clamp(p.shadow.softness - STEP.shadowSoftness * a, 0, 1)); } },
  { re: /\b(?:darker|stronger|deeper|heavier|more) shadows?\b|\bshadows? (?:darker|stronger)\b/g, fields: ['shadow.opacity'], apply: (p, a) => { p.shadow.opacity = r2(clamp(p.shadow.opacity + STEP.shadowOpacity * a, 0, 1)); p.shadow.cast = true; } },
  { re: /\b(?:lighter|weaker|fainter|subtler|less) shadows?\b|\bshadows? (?:lighter|weaker|fainter)\b/g, fields: ['shadow.opacity'], apply: (p, a) => { p.shadow.opacity = r2(clamp(p.shadow.opacity - STEP.shadowOpacity * a, 0, 1)); } },
  { re: /\blonger shadows?\b/g, fields: ['light.elevation'], apply: (p, a) => { p.light.elevation = Math.round(clamp(p.light.elevation - STEP.elevation * a, STEP.minElevation, STEP.maxElevation)); } },
  { re: /\bshorter shadows?\b/g, fields: ['light.elevation'], apply: (p, a) => { p.light.elevation = Math.round(clamp(p.light.elevation + STEP.elevation * a, STEP.minElevation, STEP.maxElevation)); } },
  { re: /\b(?:softer|gentler|more diffused?) (?:light|lighting|key)\b|\bsoften the light\b/g, fields: ['light.hardness', 'shadow.softness'], apply: hardness(-1) },
  { re: /\b(?:harder|harsher|crisper|more direct) (?:light|lighting|key)\b/g, fields: ['light.hardness', 'shadow.softness'], apply: hardness(1) },
  { re: /\b(?:warmer|warm (?:it|this|the light|things) up|warm up the light|more golden|more amber)\b/g, fields: ['light.temperature', 'grade.warmth'], apply: warmer },
  { re: /\b(?:cooler|colder|bluer|cool (?:it|this|the light|things) down|cool down the light)\b/g, fields: ['light.temperature', 'grade.warmth'], apply: cooler },
  { re: /\b(?:more|higher|stronger) contrast\b|\bpunchier\b|\bmore contrasty\b/g, fields: ['light.contrast'], apply: (p, a) => { p.light.contrast = r2(clamp(p.light.contrast + STEP.contrast * a, 0, 1)); } },
  { re: /\b(?:less|lower|softer|weaker) contrast\b|\bflatter\b/g, fields: ['light.contrast'], apply: (p, a) => { p.light.contrast = r2(clamp(p.light.contrast - STEP.contrast * a, 0, 1)); } },
  { re: /\b(?:brighter|lighter) (?:light|lighting|overall|image|picture|shot|scene)\b|\bmore light\b|\bbrighten(?: it| this| things)?(?: up)?\b|\bbrighter\b/g, fields: ['light.intensity', 'grade.exposure'], apply: exposure(1) },
  { re: /\b(?:darker|dimmer|moodier) (?:light|lighting|overall|image|picture|shot|scene)\b|\bless light\b|\bdarken(?: it| this| things)?(?: down)?\b|\bdarker\b|\bdimmer\b/g, fields: ['light.intensity', 'grade.exposure'], apply: exposure(-1) },
  { re: /\b(?:more|stronger|heavier) (?:blur|blurred|bokeh background|depth of field)\b|\bblurrier(?: background| backdrop)?\b|\bblur the (?:background|backdrop) more\b/g, fields: ['backdrop.blur'], apply: (p, a) => { p.backdrop.blur = r2(clamp(p.backdrop.blur + STEP.blur * a, 0, 1)); } },
  { re: /\bless (?:blur|blurred|blurry)\b|\bsharper (?:background|backdrop)\b/g, fields: ['backdrop.blur'], apply: (p, a) => { p.backdrop.blur = r2(clamp(p.backdrop.blur - STEP.blur * a, 0, 1)); } },
  { re: /\b(?:more saturated|more colou?rful|more vivid|richer colou?rs?)\b/g, fields: ['grade.saturation'], apply: (p, a) => { p.grade.saturation = r2(clamp(p.grade.saturation + STEP.saturation * a, 0, STEP.maxSaturation)); } },
  { re: /\b(?:less saturated|desaturated?|more muted|less colou?rful)\b/g, fields: ['grade.saturation'], apply: (p, a) => { p.grade.saturation = r2(clamp(p.grade.saturation - STEP.saturation * a, 0, STEP.maxSaturation)); } },
  { re: /\bzoom(?:ed)? out\b|\bpull(?:ed)? back\b|\bsmaller\b|\b(?:further|farther) away\b|\bmore (?:space|room) around\b/g, fields: ['framing.size'], apply: size(STEP.zoomOut) },
  { re: /\bzoom(?:ed)? in\b|\bcloser\b|\bbigger\b|\blarger\b|\btighter\b|\bpush(?:ed)? in\b/g, fields: ['framing.size'], apply: size(STEP.zoomIn) },
  { re: /\bhigher (?:camera|angle|viewpoint)\b/g, fields: ['framing.camera'], apply: (p) => { p.framing.camera = p.framing.camera === 'low' ? 'eye' : 'high'; } },
  { re: /\blower (?:camera|angle|viewpoint)\b/g, fields: ['framing.camera'], apply: (p) => { p.framing.camera = p.framing.camera === 'high' ? 'eye' : 'low'; } },
  {
    re: /\b(?:the )?(left|right)(?:[- ]hand)? third\b/g, fields: ['framing.position'],
    apply: (p, _a, m) => { p.framing.position = m[1] === 'left' ? 'left-third' : 'right-third'; },
  },
  {
    re: new RegExp(`\\b(more|less) ${EFFECT_NAMES}\\b`, 'g'), fields: ['effects'],
    apply: (p, a, m) => {
      const key = EFFECT_KEY[m[2]!]!;
      const v = p.effects[key];
      const moved = m[1] === 'more' ? Math.max(STEP.effectFloor, v * (1 + STEP.effectMore * a)) : v * (1 - STEP.effectLess * Math.min(1, a));
      p.effects[key] = r2(clamp(moved, 0, 1));
    },
  },
];

const LITTLE = /\b(?:a (?:little )?bit|a little|slightly|a touch|a tad|somewhat|just a bit|a hint)\b/;
const LOTS = /\b(?:much|a lot|way|far|really|very|lots|significantly|considerably)\b/;
/** Edit-only words that are never "unused": they carry the relative meaning or nothing. */
const EDIT_WORDS = new Set(['make', 'instead', 'now', 'move', 'more', 'less', 'bit', 'little', 'add', 'back', 'change', 'turn', 'switch', 'swap',
  'again', 'rather', 'same', 'still', 'keep', 'everything', 'else', 'slightly', 'tad', 'touch', 'lot', 'much', 'way', 'try', 'go', 'use', 'give']);

/** Fields excluded from the change list: reading notes, not scene settings. */
const NOT_SETTINGS = new Set(['words', 'changes', 'references', 'style_from', 'scene_photo', 'product', 'version']);

/** Every leaf that differs between two plans, as dotted paths (arrays compare whole). */
export function diffPlans(a: unknown, b: unknown, prefix = ''): PlanChange[] {
  const out: PlanChange[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      if (!prefix && NOT_SETTINGS.has(k)) continue;
      out.push(...diffPlans(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    }
    return out;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path: prefix, from: a ?? null, to: b ?? null });
  return out;
}

export interface EditOptions {
  /** input.scene: explicit settings, applied last */
  scene?: Partial<Draft>;
}

/**
 * Applies an edit prompt to `base`. Returns a full plan whose `changes` lists every field that moved
 * and whose `words` describe the edit prompt.
 */
export function editPlan(base: ScenePlan, prompt: string, opts: EditOptions = {}): ScenePlan {
  const plan = structuredClone(base) as Plan;
  delete plan.changes;
  // the same lowercase, accent-free text the tokenizer sees, so offsets line up
  let text = [...prompt.toLowerCase()].map((c) => (c.length === 1 ? c : ' ')).join('');
  const amount = LITTLE.test(text) ? STEP.little : LOTS.test(text) ? STEP.lots : 1;
  const understood: UnderstoodWord[] = [];

  for (const rule of RULES) {
    for (const m of text.matchAll(rule.re)) {
      const start = m.index;
      const end = start + m[0].length;
      const fields = rule.fields[0] === 'effects' ? [`effects.${EFFECT_KEY[m[2]!]}`] : rule.fields;
      rule.apply(plan, amount, m);
      understood.push({ text: prompt.slice(start, end), start, end, fields });
      text = text.slice(0, start) + ' '.repeat(end - start) + text.slice(end);
    }
  }

  // What is left reads like any prompt; only the fields it names replace the parent's.
  const reading = readPrompt(text);
  const d = reading.draft;
  const said = (o: object) => Object.keys(o).length > 0;
  if (said(d.surface) || said(d.backdrop) || said(d.light) || said(d.shadow) || said(d.reflection) || said(d.effects) || said(d.framing)
    || said(d.grade) || d.mood.length > 0 || d.style !== undefined || (d.palette.names?.length ?? 0) > 0) {
    applyAbsolute(plan, base, d, text);
  }
  if (opts.scene) {
    const merged = mergePlan(plan, opts.scene);
    Object.assign(plan, merged);
    if (opts.scene.light?.from && opts.scene.light.azimuth === undefined) plan.light.azimuth = DIRECTIONS[opts.scene.light.from].azimuth;
  }

  const words = [...understood, ...reading.understood].sort((a, b) => a.start - b.start);
  plan.words = { understood: words, unused: reading.unused.filter((w) => !EDIT_WORDS.has(w) && !LITTLE.test(w) && !LOTS.test(w)) };
  plan.changes = diffPlans(base, plan);
  return ScenePlanSchema.parse(plan);
}

/** Absolute words in an edit: each named group takes what a fresh plan of the same words derives. */
function applyAbsolute(plan: Plan, base: Plan, d: Draft, text: string): void {
  const fresh = freshPlan(text, base);
  if (Object.keys(d.surface).length > 0) {
    plan.surface = fresh.surface;
    if (Object.keys(d.reflection).length === 0) plan.reflection = fresh.reflection;
  }
  if (d.backdrop.kind !== undefined || d.backdrop.environment !== undefined) plan.backdrop = fresh.backdrop;
  else for (const k of Object.keys(d.backdrop) as Array<keyof Plan['backdrop']>) (plan.backdrop as Record<string, unknown>)[k] = fresh.backdrop[k];
  const l = d.light;
  if (l.from !== undefined) {
    plan.light.from = fresh.light.from;
    plan.light.azimuth = fresh.light.azimuth;
    if (l.from.startsWith('top') || base.light.from.startsWith('top')) plan.light.elevation = fresh.light.elevation;
    if (d.shadow.direction === undefined) plan.shadow.direction = ((plan.light.azimuth + 360) % 360) - 180;
  }
  if (l.time_of_day !== undefined) {
    for (const k of ['time_of_day', 'temperature', 'elevation', 'hardness'] as const) (plan.light as Record<string, unknown>)[k] = fresh.light[k];
    plan.grade.warmth = fresh.grade.warmth;
  }
  for (const k of ['hardness', 'temperature', 'intensity', 'contrast', 'pattern', 'rim', 'relight_product', 'elevation'] as const) {
    if (l[k] !== undefined) (plan.light as Record<string, unknown>)[k] = fresh.light[k];
  }
  if (l.hardness !== undefined && d.shadow.softness === undefined) plan.shadow.softness = fresh.shadow.softness;
  for (const k of Object.keys(d.shadow) as Array<keyof Plan['shadow']>) (plan.shadow as Record<string, unknown>)[k] = fresh.shadow[k];
  for (const k of Object.keys(d.reflection) as Array<keyof Plan['reflection']>) (plan.reflection as Record<string, unknown>)[k] = fresh.reflection[k];
  for (const [k, v] of Object.entries(d.effects)) if (v !== undefined) plan.effects[k as keyof Plan['effects']] = v;
  for (const k of Object.keys(d.framing) as Array<keyof Plan['framing']>) (plan.framing as Record<string, unknown>)[k] = fresh.framing[k];
  for (const k of Object.keys(d.grade) as Array<keyof Plan['grade']>) (plan.grade as Record<string, unknown>)[k] = fresh.grade[k];
  if ((d.palette.names?.length ?? 0) > 0) plan.palette = fresh.palette;
  if (d.style !== undefined) plan.style = fresh.style;
  if (d.mood.length > 0) {
    plan.mood = [...new Set([...plan.mood, ...d.mood])];
    if (l.contrast === undefined) plan.light.contrast = fresh.light.contrast;
    if (l.hardness === undefined) plan.light.hardness = Math.max(plan.light.hardness, fresh.light.hardness);
    if (d.grade.exposure === undefined) plan.grade.exposure = fresh.grade.exposure;
    if (d.grade.vignette === undefined) plan.grade.vignette = fresh.grade.vignette;
  }
}

/**
 * A plan of the edit's own words, with the parent's scene as context where the words alone would
 * fall back to a preset that has nothing to do with it (a light direction keeps the parent's time
 * of day; a surface colour keeps the parent's material).
 */
function freshPlan(text: string, base: Plan): Plan {
  const reading = readPrompt(text);
  const d = reading.draft;
  const ctx: Partial<Draft> = {};
  if (d.surface.material === undefined && (d.surface.color !== undefined || d.surface.tone !== undefined || d.surface.finish !== undefined)) {
    ctx.surface = { material: base.surface.material };
  }
  if (d.light.time_of_day === undefined) ctx.light = { time_of_day: base.light.time_of_day };
  const draft = mergePlan(d, ctx);
  return { ...base, ...resolvePlan(draft, reading.impliedMaterial) };
}
