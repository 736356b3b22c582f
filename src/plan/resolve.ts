import type { ScenePlan } from '../contract/scene.js';
import { luma, mixHex, toneOf } from './colors.js';
import {
  BACKDROP, DEFAULT_SIZES, DIRECTIONS, ENVIRONMENTS, FINISH_GLOSS, GRADE, HORIZON, LIGHT, MATERIALS, MOODS, NEAREST_DIRECTION, NIGHT_BOKEH,
  OVERHEAD_DIRECTIONS, OVERHEAD_MAX_HORIZON, REFLECTION, SHADOW, SIZE, STYLE_CONTRAST, TIMES, type Angles, type Dir, type Material, type Tone,
} from './presets.js';
import type { Draft } from './vocabulary.js';

/**
 * Turns the explicit words (prompt draft merged with input.scene) into a complete plan. Everything
 * not said is filled from presets keyed by what was said: the style, the environment, the material,
 * the time of day and the moods. Explicit values always win over presets.
 */

type Env = ScenePlan['backdrop']['environment'];

/** The direction word nearest to an angle pair, so the plan stays readable when numbers are set. */
export function nearestDirection(azimuth: number, elevation: number): Dir {
  if (elevation >= NEAREST_DIRECTION.topElevation) return 'top';
  let best: Dir = 'front';
  let bestD = Infinity;
  for (const [dir, v] of Object.entries(DIRECTIONS) as Array<[Dir, Angles]>) {
    if (dir === 'top') continue;
    const da = Math.abs(((azimuth - v.azimuth + 540) % 360) - 180);
    const d = da + Math.abs(elevation - v.elevation) * NEAREST_DIRECTION.elevationWeight;
    if (d < bestD) { bestD = d; best = dir; }
  }
  return best;
}

function defaultSize(style: ScenePlan['style'], env: Env, camera: ScenePlan['framing']['camera'], pattern: ScenePlan['light']['pattern']): number {
  if (env === 'city-night') return SIZE.cityNight;
  if (pattern !== 'none') return Math.min(DEFAULT_SIZES[style], SIZE.roomy);
  if (camera === 'high' && style !== 'flat-lay') return Math.min(DEFAULT_SIZES[style], SIZE.roomy);
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
  const overhead = camera === 'top-down' || (camera === 'high' && (e.framing.horizon ?? (e.style === 'flat-lay' ? 0 : 1)) <= OVERHEAD_MAX_HORIZON);
  let env: Env = e.backdrop.environment ?? 'none';
  if (env === 'none' && e.style === 'lifestyle' && !e.backdrop.kind) env = 'living-room';
  const style = e.style ?? (overhead ? 'flat-lay' : env !== 'none' ? 'lifestyle' : dark ? 'editorial' : has('high-key') || has('bright') ? 'catalogue' : 'studio');
  const envPreset = env === 'none' ? undefined : ENVIRONMENTS[env];
  const backdropKind = e.backdrop.kind ?? (env !== 'none' ? 'environment' : style === 'luxury' || dark ? 'gradient' : style === 'minimal' ? 'plaster' : 'sweep');
  if (backdropKind !== 'environment') env = e.backdrop.environment ?? 'none';

  // ---- surface ----
  const material: Material = e.surface.material
    ?? (impliedMaterial as Material | undefined)
    ?? envPreset?.material
    ?? (style === 'luxury' ? 'marble' : style === 'minimal' ? 'concrete' : overhead ? 'linen' : 'paper');
  const mp = MATERIALS[material];
  let tone: Tone = e.surface.tone ?? (e.surface.color ? toneOf(e.surface.color) : undefined)
    ?? (material === envPreset?.material ? envPreset.tone : undefined) ?? (dark && material !== 'paper' && material !== 'wood' ? 'dark' : mp.tone);
  const palette0 = e.palette.colors?.[0];
  let surfaceColor = e.surface.color ?? mp.colors[tone];
  const finish = e.surface.finish ?? mp.finish;
  const gloss = e.surface.gloss ?? (e.surface.finish ? FINISH_GLOSS[e.surface.finish] : mp.gloss);

  // ---- backdrop ----
  let backdropColor = e.backdrop.color ?? (backdropKind === 'environment' ? envPreset?.color ?? BACKDROP.environmentColor : undefined);
  if (!backdropColor) {
    if (dark) backdropColor = material === 'paper' ? BACKDROP.darkPaper : mixHex(surfaceColor, BACKDROP.darkTowards, BACKDROP.darkMix);
    else if (style === 'catalogue' || brightMood) backdropColor = BACKDROP.bright;
    else if (backdropKind === 'plaster') backdropColor = BACKDROP.plaster;
    else if (material === 'paper' || material === 'none') backdropColor = BACKDROP.paper;
    else backdropColor = mixHex(surfaceColor, luma(surfaceColor) > BACKDROP.paleSurfaceLuma ? BACKDROP.paler : BACKDROP.deeper, BACKDROP.surfaceMix);
  }
  // Colours named loosely ("with sage accents") tint the backdrop rather than replace it.
  if (palette0 && !e.backdrop.color && !dark) backdropColor = mixHex(backdropColor, palette0, BACKDROP.paletteTint);
  // A sweep is one sheet: the floor takes the backdrop's colour unless the prompt named a surface.
  if (backdropKind === 'sweep' && material === 'paper' && !e.surface.color) {
    surfaceColor = mixHex(backdropColor, '#000000', BACKDROP.sweepFloorShade);
    tone = toneOf(surfaceColor);
  }
  const blur = e.backdrop.blur ?? (backdropKind === 'environment' ? envPreset?.blur ?? BACKDROP.environmentBlur : BACKDROP.blur);

  // ---- light ----
  const time = e.light.time_of_day ?? (env === 'city-night' ? 'night' : 'any');
  const tp = TIMES[time];
  const defaultFrom: Dir = envPreset?.from ?? (has('dramatic') || has('moody') || has('low-key') ? 'left' : overhead ? 'top-left' : 'front-left');
  const from: Dir = e.light.from ?? (e.light.azimuth !== undefined ? nearestDirection(e.light.azimuth, e.light.elevation ?? NEAREST_DIRECTION.elevation) : defaultFrom);
  // Seen from overhead, the top of the frame is the far side of the set: "upper left" light comes
  // from behind on the left, so the shadow falls toward the camera on the right.
  const dirp = overhead && OVERHEAD_DIRECTIONS[from] ? OVERHEAD_DIRECTIONS[from] : DIRECTIONS[from];
  const topish = from.startsWith('top');
  const azimuth = e.light.azimuth ?? dirp.azimuth;
  const elevation = e.light.elevation ?? (topish ? dirp.elevation : tp.elevation ?? (has('dramatic') ? MOODS.dramatic.elevation : dirp.elevation));
  let hardness = tp.hardness;
  if (has('dramatic')) hardness = Math.max(hardness, MOODS.dramatic.minHardness);
  if (has('soft') || has('airy') || has('high-key')) hardness = Math.min(hardness, MOODS.gentle.maxHardness);
  if (e.light.pattern && e.light.pattern !== 'none') hardness = Math.max(hardness, LIGHT.patternMinHardness);
  hardness = e.light.hardness ?? hardness;
  let temperature = envPreset?.temperature ?? tp.temperature;
  if (time !== 'any') temperature = tp.temperature;
  if (has('warm')) temperature = Math.min(temperature, MOODS.warm.maxTemperature);
  if (has('cool')) temperature = Math.max(temperature, MOODS.cool.minTemperature);
  temperature = e.light.temperature ?? temperature;
  let contrast = dark ? MOODS.dark.contrast : brightMood ? MOODS.bright.contrast
    : style === 'editorial' || style === 'luxury' ? STYLE_CONTRAST.editorial : STYLE_CONTRAST.other;
  if (has('cinematic')) contrast = Math.max(contrast, MOODS.cinematic.minContrast);
  if (has('soft')) contrast = Math.min(contrast, MOODS.soft.maxContrast);
  contrast = e.light.contrast ?? contrast;
  const intensity = e.light.intensity ?? (dark ? MOODS.dark.intensity : brightMood ? MOODS.bright.intensity : LIGHT.intensity);
  const rimDefault = from.startsWith('back') || style === 'luxury' || has('dramatic');
  const rimEnabled = e.light.rim?.enabled ?? rimDefault;
  const rimIntensity = e.light.rim?.intensity ?? (from.startsWith('back') ? LIGHT.backRimIntensity : LIGHT.rimIntensity);
  const pattern = e.light.pattern ?? 'none';

  // ---- shadow / reflection ----
  const shadowDirection = e.shadow.direction ?? (((azimuth + 360) % 360) - 180);
  const shadow = {
    cast: e.shadow.cast ?? true,
    contact: e.shadow.contact ?? true,
    softness: e.shadow.softness ?? round(clamp(1 - hardness * SHADOW.softnessPerHardness, SHADOW.minSoftness, 1)),
    opacity: e.shadow.opacity ?? round(clamp(SHADOW.opacityBase + contrast * SHADOW.opacityPerContrast, 0, 1)),
    direction: shadowDirection,
  };
  const reflectionEnabled = e.reflection.enabled ?? (gloss >= REFLECTION.minGloss && material !== 'none');
  const strength = round(clamp(gloss * REFLECTION.strengthPerGloss, REFLECTION.minStrength, REFLECTION.maxStrength));
  const reflection = { enabled: reflectionEnabled, strength: e.reflection.strength ?? strength };

  // ---- effects ----
  const effects = {
    steam: e.effects.steam ?? 0, smoke: e.effects.smoke ?? 0, mist: e.effects.mist ?? 0,
    bokeh: e.effects.bokeh ?? (time === 'night' ? Math.max(NIGHT_BOKEH, envPreset?.bokeh ?? 0) : envPreset?.bokeh ?? 0),
    rays: e.effects.rays ?? 0, haze: e.effects.haze ?? 0, dust: e.effects.dust ?? 0,
  };

  // ---- framing ----
  const size = e.framing.size ?? defaultSize(style, env, camera, pattern);
  const horizon = e.framing.horizon ?? (overhead ? 0 : camera === 'low' ? HORIZON.low : camera === 'high' ? HORIZON.high
    : backdropKind === 'environment' ? HORIZON.environment : HORIZON.eye);

  // ---- grade ----
  const fromKelvin = clamp((GRADE.neutralKelvin - temperature) / GRADE.kelvinPerUnit, -GRADE.maxFromKelvin, GRADE.maxFromKelvin);
  let warmth = fromKelvin * GRADE.kelvinShare + tp.warmth * GRADE.timeShare;
  if (has('warm')) warmth += MOODS.warm.warmth;
  if (has('cool')) warmth += MOODS.cool.warmth;
  let exposure = (envPreset?.exposure ?? 0) + tp.exposure;
  if (dark) exposure += has('low-key') ? MOODS.lowKey.exposure : MOODS.dark.exposure;
  if (brightMood) exposure += MOODS.bright.exposure;
  const grade = {
    warmth: round(clamp(e.grade.warmth ?? warmth, -1, 1)),
    exposure: round(clamp(e.grade.exposure ?? exposure, -1, 1)),
    saturation: e.grade.saturation ?? (has('moody') ? MOODS.moody.saturation : GRADE.saturation),
    vignette: e.grade.vignette ?? (dark ? MOODS.dark.vignette : brightMood || style === 'catalogue' ? MOODS.bright.vignette : GRADE.vignette),
    grain: e.grade.grain ?? (has('cinematic') ? MOODS.cinematic.grain : dark || style === 'editorial' ? MOODS.dark.grain : GRADE.grain),
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
