import type { ScenePlan } from '../contract/scene.js';
import { luma, mixHex } from './colors.js';
import type { Draft } from './vocabulary.js';

/**
 * Turns the explicit words (prompt draft merged with input.scene) into a complete plan. Everything
 * not said is filled from presets keyed by what was said: the style, the environment, the material,
 * the time of day and the moods. Explicit values always win over presets.
 */

type Surface = ScenePlan['surface'];
type Material = Surface['material'];
type Tone = Surface['tone'];
type Env = ScenePlan['backdrop']['environment'];
type Dir = ScenePlan['light']['from'];

interface MaterialPreset { colors: Record<Tone, string>; tone: Tone; finish: Surface['finish']; gloss: number }
const mat = (light: string, medium: string, dark: string, tone: Tone, finish: Surface['finish'], gloss: number): MaterialPreset =>
  ({ colors: { light, medium, dark }, tone, finish, gloss });

export const MATERIALS: Record<Material, MaterialPreset> = {
  none: mat('#eceae6', '#b9b6b0', '#2c2d30', 'light', 'matte', 0),
  slate: mat('#7b8087', '#565a60', '#43474d', 'dark', 'satin', 0.22),
  marble: mat('#ebe8e3', '#bdb8b0', '#1e1e20', 'light', 'glossy', 0.5),
  wood: mat('#c39a6b', '#8c5d3a', '#4a2f20', 'medium', 'satin', 0.18),
  concrete: mat('#bdbbb6', '#8f8d89', '#4f4f4f', 'medium', 'matte', 0.04),
  stone: mat('#cbc4b8', '#8f8a82', '#4a4743', 'medium', 'matte', 0.08),
  linen: mat('#e6e0d4', '#c6baa6', '#5d584f', 'light', 'matte', 0),
  terrazzo: mat('#ebe6de', '#c4bdb2', '#3d3b39', 'light', 'satin', 0.3),
  sand: mat('#e4d2b0', '#d0b78e', '#a48a63', 'medium', 'matte', 0),
  paper: mat('#eeebe6', '#c9c5be', '#2f3033', 'light', 'matte', 0),
  metal: mat('#c2c5c9', '#8d9196', '#3f4246', 'medium', 'glossy', 0.6),
  glass: mat('#d8dee2', '#7f8a91', '#16191c', 'dark', 'glossy', 0.8),
  mirror: mat('#cfd3d6', '#8a8f94', '#1a1c1e', 'medium', 'mirror', 0.95),
  water: mat('#8fb6c2', '#3f6b79', '#173039', 'medium', 'glossy', 0.75),
};

const FINISH_GLOSS: Record<Surface['finish'], number> = { matte: 0.04, satin: 0.25, glossy: 0.6, mirror: 0.95 };

interface EnvPreset { material: Material; tone?: Tone; color: string; from: Dir; temperature: number; bokeh: number; blur: number; exposure: number }
const ENVS: Record<Exclude<Env, 'none'>, EnvPreset> = {
  cafe: { material: 'wood', color: '#6e4c34', from: 'left', temperature: 4300, bokeh: 0.45, blur: 0.85, exposure: 0 },
  kitchen: { material: 'marble', color: '#cfc6b8', from: 'left', temperature: 5200, bokeh: 0.1, blur: 0.8, exposure: 0.1 },
  bathroom: { material: 'marble', color: '#d9dcdc', from: 'left', temperature: 5800, bokeh: 0, blur: 0.8, exposure: 0.15 },
  'living-room': { material: 'wood', color: '#a88f76', from: 'left', temperature: 4600, bokeh: 0.15, blur: 0.85, exposure: 0 },
  bedroom: { material: 'linen', color: '#c9bba9', from: 'left', temperature: 4800, bokeh: 0.1, blur: 0.85, exposure: 0.05 },
  office: { material: 'wood', tone: 'light', color: '#a9a49c', from: 'left', temperature: 5300, bokeh: 0.1, blur: 0.8, exposure: 0.05 },
  garden: { material: 'stone', color: '#6f8a5a', from: 'top-left', temperature: 5600, bokeh: 0.1, blur: 0.85, exposure: 0.05 },
  forest: { material: 'wood', tone: 'dark', color: '#3f5a3a', from: 'top-left', temperature: 5400, bokeh: 0.25, blur: 0.85, exposure: -0.1 },
  beach: { material: 'sand', color: '#9cc3d8', from: 'top-right', temperature: 5900, bokeh: 0, blur: 0.75, exposure: 0.15 },
  'city-night': { material: 'stone', tone: 'dark', color: '#1c2233', from: 'left', temperature: 4000, bokeh: 0.8, blur: 0.9, exposure: -0.3 },
};

export const DIRECTIONS: Record<Dir, { azimuth: number; elevation: number }> = {
  left: { azimuth: -90, elevation: 30 }, right: { azimuth: 90, elevation: 30 }, front: { azimuth: 0, elevation: 35 },
  back: { azimuth: 180, elevation: 30 }, top: { azimuth: 0, elevation: 82 },
  'front-left': { azimuth: -45, elevation: 38 }, 'front-right': { azimuth: 45, elevation: 38 },
  'back-left': { azimuth: -135, elevation: 30 }, 'back-right': { azimuth: 135, elevation: 30 },
  'top-left': { azimuth: -90, elevation: 60 }, 'top-right': { azimuth: 90, elevation: 60 },
  'top-front': { azimuth: 0, elevation: 65 }, 'top-back': { azimuth: 180, elevation: 65 },
};

const OVERHEAD_DIRECTIONS: Partial<Record<Dir, { azimuth: number; elevation: number }>> = {
  'top-left': { azimuth: -135, elevation: 50 }, 'top-right': { azimuth: 135, elevation: 50 }
};

/** The direction word nearest to an angle pair, so the plan stays readable when numbers are set. */
export function nearestDirection(azimuth: number, elevation: number): Dir {
  if (elevation >= 75) return 'top';
  let best: Dir = 'front';
  let bestD = Infinity;
  for (const [dir, v] of Object.entries(DIRECTIONS) as Array<[Dir, { azimuth: number; elevation: number }]>) {
    if (dir === 'top') continue;
    const da = Math.abs(((azimuth - v.azimuth + 540) % 360) - 180);
    const d = da + Math.abs(elevation - v.elevation) * 0.6;
    if (d < bestD) { bestD = d; best = dir; }
  }
  return best;
}

const TIMES: Record<ScenePlan['light']['time_of_day'], { temperature: number; elevation?: number; hardness: number; warmth: number; exposure: number }> = {
  any: { temperature: 5200, hardness: 0.45, warmth: 0.05, exposure: 0 },
  morning: { temperature: 5000, elevation: 24, hardness: 0.5, warmth: 0.2, exposure: 0.05 },
  'golden-hour': { temperature: 3400, elevation: 10, hardness: 0.65, warmth: 0.55, exposure: 0 },
  noon: { temperature: 5800, elevation: 70, hardness: 0.8, warmth: 0, exposure: 0.1 },
  afternoon: { temperature: 5300, elevation: 38, hardness: 0.6, warmth: 0.1, exposure: 0.05 },
  evening: { temperature: 3700, elevation: 9, hardness: 0.4, warmth: 0.35, exposure: -0.2 },
  night: { temperature: 3600, elevation: 35, hardness: 0.5, warmth: 0.15, exposure: -0.4 },
};

/**
 * Product height as a share of the frame when the prompt names no size. Heroes leave generous
 * negative space (a little over half the frame); a lifestyle shot gives the scene room to read; a
 * catalogue packshot fills more. A night city shot is a hero against bokeh, so it stays large.
 */
export const DEFAULT_SIZES: Record<ScenePlan['style'], number> = {
  studio: 0.56, editorial: 0.56, luxury: 0.54, minimal: 0.48, catalogue: 0.64, lifestyle: 0.44, 'flat-lay': 0.5,
};

function defaultSize(style: ScenePlan['style'], env: Env, camera: ScenePlan['framing']['camera'], pattern: ScenePlan['light']['pattern']): number {
  if (env === 'city-night') return 0.56;
  // a window or leaf pattern needs room around the product to read
  if (pattern !== 'none') return Math.min(DEFAULT_SIZES[style], 0.5);
  if (camera === 'high' && style !== 'flat-lay') return Math.min(DEFAULT_SIZES[style], 0.5);
  return DEFAULT_SIZES[style];
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round = (v: number, p = 2) => Math.round(v * 10 ** p) / 10 ** p;

/** Fills every field; `e` holds what was said explicitly (prompt words, then input.scene). */
export function resolvePlan(e: Draft, impliedMaterial: string | undefined): Omit<ScenePlan, 'words' | 'product' | 'version'> {
  const moods = [...e.mood];
  const has = (m: string) => moods.includes(m as never);
  const dark = has('dramatic') || has('moody') || has('low-key');
  const brightMood = has('high-key') || has('bright') || has('airy');
  const camera = e.framing.camera ?? (e.style === 'flat-lay' ? 'high' : 'eye');
  // an overhead still: a flat lay, or a high camera over a surface that fills the frame
  const overhead = camera === 'top-down' || (camera === 'high' && (e.framing.horizon ?? (e.style === 'flat-lay' ? 0 : 1)) <= 0.05);
  let env: Env = e.backdrop.environment ?? 'none';
  if (env === 'none' && e.style === 'lifestyle' && !e.backdrop.kind) env = 'living-room';
  const style = e.style ?? (overhead ? 'flat-lay' : env !== 'none' ? 'lifestyle' : dark ? 'editorial' : has('high-key') || has('bright') ? 'catalogue' : 'studio');
  const envPreset = env === 'none' ? undefined : ENVS[env];
  const backdropKind = e.backdrop.kind ?? (env !== 'none' ? 'environment' : style === 'luxury' || dark ? 'gradient' : style === 'minimal' ? 'plaster' : 'sweep');
  if (backdropKind !== 'environment') env = e.backdrop.environment ?? 'none';

  // ---- surface ----
  const material: Material = e.surface.material
    ?? (impliedMaterial as Material | undefined)
    ?? envPreset?.material
    ?? (style === 'luxury' ? 'marble' : style === 'minimal' ? 'concrete' : overhead ? 'linen' : 'paper');
  const mp = MATERIALS[material];
  let tone: Tone = e.surface.tone ?? (e.surface.color ? (luma(e.surface.color) > 0.6 ? 'light' : luma(e.surface.color) < 0.3 ? 'dark' : 'medium') : undefined)
    ?? (material === envPreset?.material ? envPreset.tone : undefined) ?? (dark && material !== 'paper' && material !== 'wood' ? 'dark' : mp.tone);
  const palette0 = e.palette.colors?.[0];
  let surfaceColor = e.surface.color ?? mp.colors[tone];
  const finish = e.surface.finish ?? mp.finish;
  const gloss = e.surface.gloss ?? (e.surface.finish ? FINISH_GLOSS[e.surface.finish] : mp.gloss);

  // ---- backdrop ----
  let backdropColor = e.backdrop.color ?? (backdropKind === 'environment' ? envPreset?.color ?? '#6e6a64' : undefined);
  if (!backdropColor) {
    if (dark) backdropColor = material === 'paper' ? '#2a2b2e' : mixHex(surfaceColor, '#141517', 0.55);
    else if (style === 'catalogue' || brightMood) backdropColor = '#f3f2ef';
    else if (backdropKind === 'plaster') backdropColor = '#d8d0c4';
    else if (material === 'paper' || material === 'none') backdropColor = '#e6e3de';
    else backdropColor = mixHex(surfaceColor, luma(surfaceColor) > 0.5 ? '#f4f2ee' : '#2a2a2c', 0.45);
  }
  // Colours named loosely ("with sage accents") tint the backdrop rather than replace it.
  if (palette0 && !e.backdrop.color && !dark) backdropColor = mixHex(backdropColor, palette0, dark ? 0.15 : 0.4);
  // A sweep is one sheet: the floor takes the backdrop's colour unless the prompt named a surface.
  if (backdropKind === 'sweep' && material === 'paper' && !e.surface.color) {
    surfaceColor = mixHex(backdropColor, '#000000', 0.04);
    tone = luma(surfaceColor) > 0.6 ? 'light' : luma(surfaceColor) < 0.3 ? 'dark' : 'medium';
  }
  const blur = e.backdrop.blur ?? (backdropKind === 'environment' ? envPreset?.blur ?? 0.8 : 0.5);

  // ---- light ----
  const time = e.light.time_of_day ?? (env === 'city-night' ? 'night' : 'any');
  const tp = TIMES[time];
  const defaultFrom: Dir = envPreset?.from ?? (has('dramatic') || has('moody') || has('low-key') ? 'left' : overhead ? 'top-left' : 'front-left');
  const from: Dir = e.light.from ?? (e.light.azimuth !== undefined ? nearestDirection(e.light.azimuth, e.light.elevation ?? 35) : defaultFrom);
  // Seen from overhead, the top of the frame is the far side of the set: "upper left" light comes
  // from behind on the left, so the shadow falls toward the camera on the right.
  const dirp = overhead && OVERHEAD_DIRECTIONS[from] ? OVERHEAD_DIRECTIONS[from] : DIRECTIONS[from];
  const topish = from.startsWith('top');
  const azimuth = e.light.azimuth ?? dirp.azimuth;
  const elevation = e.light.elevation ?? (topish ? dirp.elevation : tp.elevation ?? (has('dramatic') ? 22 : dirp.elevation));
  let hardness = tp.hardness;
  if (has('dramatic')) hardness = Math.max(hardness, 0.72);
  if (has('soft') || has('airy') || has('high-key')) hardness = Math.min(hardness, 0.25);
  if (e.light.pattern && e.light.pattern !== 'none') hardness = Math.max(hardness, 0.55);
  hardness = e.light.hardness ?? hardness;
  let temperature = envPreset?.temperature ?? tp.temperature;
  if (time !== 'any') temperature = tp.temperature;
  if (has('warm')) temperature = Math.min(temperature, 4000);
  if (has('cool')) temperature = Math.max(temperature, 7000);
  temperature = e.light.temperature ?? temperature;
  let contrast = dark ? 0.78 : brightMood ? 0.28 : style === 'editorial' || style === 'luxury' ? 0.62 : 0.5;
  if (has('cinematic')) contrast = Math.max(contrast, 0.65);
  if (has('soft')) contrast = Math.min(contrast, 0.42);
  contrast = e.light.contrast ?? contrast;
  const intensity = e.light.intensity ?? (dark ? 1.1 : brightMood ? 1.15 : 1);
  const rimDefault = from.startsWith('back') || style === 'luxury' || has('dramatic');
  const rimEnabled = e.light.rim?.enabled ?? rimDefault;
  const rimIntensity = e.light.rim?.intensity ?? (from.startsWith('back') ? 0.7 : 0.4);
  const pattern = e.light.pattern ?? 'none';

  // ---- shadow / reflection ----
  const shadowDirection = e.shadow.direction ?? (((azimuth + 360) % 360) - 180);
  const shadow = {
    cast: e.shadow.cast ?? true,
    contact: e.shadow.contact ?? true,
    softness: e.shadow.softness ?? round(clamp(1 - hardness * 0.85, 0.08, 1)),
    opacity: e.shadow.opacity ?? round(clamp(0.4 + contrast * 0.4, 0, 1)),
    direction: shadowDirection,
  };
  const reflectionEnabled = e.reflection.enabled ?? (gloss >= 0.45 && material !== 'none');
  const reflection = { enabled: reflectionEnabled, strength: e.reflection.strength ?? round(clamp(gloss * 0.7, 0.1, 0.8)) };

  // ---- effects ----
  const effects = {
    steam: e.effects.steam ?? 0, smoke: e.effects.smoke ?? 0, mist: e.effects.mist ?? 0,
    bokeh: e.effects.bokeh ?? (time === 'night' ? Math.max(0.5, envPreset?.bokeh ?? 0) : envPreset?.bokeh ?? 0),
    rays: e.effects.rays ?? 0, haze: e.effects.haze ?? 0, dust: e.effects.dust ?? 0,
  };

  // ---- framing ----
  const size = e.framing.size ?? defaultSize(style, env, camera, pattern);
  const horizon = e.framing.horizon ?? (overhead ? 0 : camera === 'low' ? 0.6 : camera === 'high' ? 0.34 : backdropKind === 'environment' ? 0.5 : 0.47);

  // ---- grade ----
  let warmth = clamp((5400 - temperature) / 3200, -0.8, 0.8) * 0.6 + tp.warmth * 0.4;
  if (has('warm')) warmth += 0.15;
  if (has('cool')) warmth -= 0.15;
  let exposure = (envPreset?.exposure ?? 0) + tp.exposure;
  if (dark) exposure -= has('low-key') ? 0.3 : 0.18;
  if (brightMood) exposure += 0.2;
  const grade = {
    warmth: round(clamp(e.grade.warmth ?? warmth, -1, 1)),
    exposure: round(clamp(e.grade.exposure ?? exposure, -1, 1)),
    saturation: e.grade.saturation ?? (has('moody') ? 0.88 : 1),
    vignette: e.grade.vignette ?? (dark ? 0.55 : brightMood || style === 'catalogue' ? 0.08 : 0.3),
    grain: e.grade.grain ?? (has('cinematic') ? 0.55 : dark || style === 'editorial' ? 0.4 : 0.3),
  };

  return {
    style,
    mood: moods,
    surface: { material, tone, color: surfaceColor, finish, gloss: round(gloss) },
    backdrop: { kind: backdropKind, environment: env, color: backdropColor, blur: round(blur) },
    light: {
      from, azimuth: round(azimuth, 1), elevation: round(elevation, 1), hardness: round(hardness), temperature: Math.round(temperature),
      intensity: round(intensity), contrast: round(contrast), time_of_day: time,
      rim: { enabled: rimEnabled, intensity: round(rimIntensity) }, pattern, relight_product: e.light.relight_product ?? true,
    },
    shadow,
    reflection,
    effects,
    framing: { size: round(size), position: e.framing.position ?? 'center', camera, horizon: round(horizon) },
    palette: { names: e.palette.names ?? [], colors: e.palette.colors ?? [] },
    grade,
  };
}
