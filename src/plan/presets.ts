import type { ScenePlan } from '../contract/scene.js';

/**
 * The planner's tuning as named data: the presets resolve.ts fills unsaid fields from (materials,
 * environments, light directions, times of day, moods, defaults), the values words set (WORDS) and
 * the steps of relative edits (EDIT_STEPS). The code holds the rules (which value applies when),
 * this file the numbers. Scales are the plan's own (docs/scene-plan.md): 0..1 unless a field says
 * otherwise, temperatures in kelvin, angles in degrees.
 */

type Surface = ScenePlan['surface'];
export type Material = Surface['material'];
export type Tone = Surface['tone'];
export type Dir = ScenePlan['light']['from'];
type Env = Exclude<ScenePlan['backdrop']['environment'], 'none'>;

// ---- surfaces ---------------------------------------------------------------------------------

export interface MaterialPreset {
  /** surface colour at each tone */
  colors: Record<Tone, string>;
  /** tone when the prompt names none */
  tone: Tone;
  finish: Surface['finish'];
  /** 0 matte … 1 mirror; at REFLECTION.minGloss and above the surface reflects the product */
  gloss: number;
}

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

/** Gloss of a finish named in words ("polished marble"), replacing the material's own. */
export const FINISH_GLOSS: Record<Surface['finish'], number> = { matte: 0.04, satin: 0.25, glossy: 0.6, mirror: 0.95 };

/**
 * How a material's surface meets the light (engine/scene/normals.ts, reflection.ts): its relief, one
 * of the CC0 normal maps `@pmndrs/assets` ships (`normals/NNNN.webp`, 512×512), tiled every `tile`
 * product heights and tilted by `strength` (0 flat … 1 as the map was drawn), turned a quarter where
 * `turn` says so (a wood grain that runs along the planks); its roughness at the material's own
 * gloss (0 a mirror … 1 chalk: a polished surface mirrors the room, a rough one spreads it to
 * nothing); its reflectance straight on (F0: about 0.04 for stone, wood and lacquer, more for metal).
 * A finish word moves the roughness with the plan's gloss (`gloss` below the material's makes it rougher).
 */
export interface MaterialDetail {
  normal: string | null;
  tile: number;
  strength: number;
  turn?: boolean;
  roughness: number;
  f0: number;
}

const detail = (normal: string | null, tile: number, strength: number, roughness: number, f0 = 0.04, turn = false): MaterialDetail =>
  ({ normal, tile, strength, roughness, f0, ...(turn ? { turn } : {}) });

export const MATERIAL_DETAIL: Record<Material, MaterialDetail> = {
  none: detail(null, 1, 0, 1),
  // 0006: cleft layers with stepped edges; 0022: a trowelled face with a few fine scratches
  slate: detail('0006', 2.2, 0.55, 0.55),
  marble: detail('0022', 3, 0.1, 0.2),
  // 0019: a fine open grain, turned to run along the planks
  wood: detail('0019', 1.6, 0.45, 0.5, 0.04, true),
  // 0015: rough cast grain; 0001: split stone with hairline cracks
  concrete: detail('0015', 0.9, 0.35, 0.85),
  stone: detail('0001', 2, 0.7, 0.8),
  // 0018: a loose weave; 0021: a fine felted grain
  linen: detail('0018', 0.4, 1, 0.95),
  terrazzo: detail('0022', 3, 0.2, 0.3),
  sand: detail('0004', 0.8, 0.8, 0.95),
  paper: detail('0021', 0.9, 0.5, 0.9),
  metal: detail('0004', 2.5, 0.12, 0.3, 0.6, true),
  glass: detail(null, 1, 0, 0.08),
  mirror: detail(null, 1, 0, 0.03, 0.9),
  // 0007: long smooth swells
  water: detail('0007', 3.5, 0.3, 0.08, 0.02),
};

/** A colour's tone by its luma (0..1): above `light` it is light, below `dark` it is dark. */
export const TONE_LUMA = { light: 0.6, dark: 0.3 };

// ---- environments -----------------------------------------------------------------------------

export interface EnvironmentPreset {
  /** the surface the product stands on there */
  material: Material;
  /** that surface's tone, where it differs from the material's */
  tone?: Tone;
  /** backdrop colour */
  color: string;
  /** the side the room's light comes from */
  from: Dir;
  /** kelvin, when the prompt names no time of day */
  temperature: number;
  bokeh: number;
  /** backdrop blur */
  blur: number;
  /** added to the grade's exposure */
  exposure: number;
  /** the photograph behind the set (engine/scene/environment.ts); without one, a drawn room */
  photo?: EnvironmentPhoto;
}

/**
 * A photographic backdrop: one of the 18 CC0 environments of @pmndrs/assets (engine/raster/hdri.ts),
 * where to look in it and how to grade it. `byTime` swaps values for a time of day (a park at golden
 * hour is another photograph).
 */
export interface EnvironmentPhoto {
  hdri: string;
  /** directions worth looking at (degrees, 0 = the photograph's centre, positive to the right): the seed picks one */
  views: number[];
  /** the seed turns the chosen view by up to this many degrees either way */
  jitter: number;
  /** horizontal field of view of the backdrop, degrees */
  fov: number;
  /** stops above or below the backdrop's usual level (about a stop under the product) */
  exposure: number;
  /** the grade: a colour the view is multiplied toward, how far (0..1), and saturation */
  tint: string;
  tintAmount: number;
  saturation: number;
  byTime?: Partial<Record<ScenePlan['light']['time_of_day'], Partial<EnvironmentPhoto>>>;
}

const photo = (hdri: string, views: number[], o: Partial<EnvironmentPhoto> = {}): EnvironmentPhoto =>
  ({ hdri, views, jitter: 12, fov: 56, exposure: 0, tint: '#ffffff', tintAmount: 0, saturation: 1, ...o });

/** warm light at golden hour and in the evening outdoors: the field at sunrise, low sun */
const OUTDOOR_TIMES: EnvironmentPhoto['byTime'] = {
  'golden-hour': { hdri: 'sunrise', views: [-60, -30, 0, 30, 180], tint: '#ffc489', tintAmount: 0.35, exposure: 0.1 },
  evening: { hdri: 'sunrise', views: [-60, -30, 0, 30, 180], tint: '#ffb37a', tintAmount: 0.35, exposure: -0.2 },
  night: { hdri: 'night', views: [0, 90, 180], exposure: -0.6, tint: '#9fb4ff', tintAmount: 0.2 },
};

export const ENVIRONMENTS: Record<Env, EnvironmentPreset> = {
  cafe: { material: 'wood', color: '#6e4c34', from: 'left', temperature: 4300, bokeh: 0.45, blur: 0.85, exposure: 0,
    photo: photo('esplanade', [-150, -125, 30, 150], { tint: '#ffb878', tintAmount: 0.3, exposure: -0.35, saturation: 0.9 }) },
  kitchen: { material: 'marble', color: '#cfc6b8', from: 'left', temperature: 5200, bokeh: 0.1, blur: 0.8, exposure: 0.1,
    photo: photo('apartment', [-150, 150, 180, 0], { tint: '#fff1e0', tintAmount: 0.3, exposure: 0.1 }) },
  bathroom: { material: 'marble', color: '#d9dcdc', from: 'left', temperature: 5800, bokeh: 0, blur: 0.8, exposure: 0.15 },
  'living-room': { material: 'wood', color: '#a88f76', from: 'left', temperature: 4600, bokeh: 0.15, blur: 0.85, exposure: 0,
    photo: photo('apartment', [150, 180, 120, 0], { tint: '#ffe2c0', tintAmount: 0.35 }) },
  bedroom: { material: 'linen', color: '#c9bba9', from: 'left', temperature: 4800, bokeh: 0.1, blur: 0.85, exposure: 0.05,
    photo: photo('apartment', [180, 120, 0], { tint: '#ffdcc0', tintAmount: 0.35 }) },
  office: { material: 'wood', tone: 'light', color: '#a9a49c', from: 'left', temperature: 5300, bokeh: 0.1, blur: 0.8, exposure: 0.05,
    photo: photo('lobby', [60, 90, -170], { saturation: 0.75 }) },
  garden: { material: 'stone', color: '#6f8a5a', from: 'top-left', temperature: 5600, bokeh: 0.1, blur: 0.85, exposure: 0.05,
    photo: photo('forest', [90, 30, -30], { exposure: 0.2, byTime: OUTDOOR_TIMES }) },
  forest: { material: 'wood', tone: 'dark', color: '#3f5a3a', from: 'top-left', temperature: 5400, bokeh: 0.25, blur: 0.85, exposure: -0.1,
    photo: photo('forest', [-30, 30, 90, 150]) },
  beach: { material: 'sand', color: '#9cc3d8', from: 'top-right', temperature: 5900, bokeh: 0, blur: 0.75, exposure: 0.15,
    photo: photo('venice', [30, 60, -90], { exposure: 0.35, tint: '#fff4e4', tintAmount: 0.2 }) },
  'city-night': { material: 'stone', tone: 'dark', color: '#1c2233', from: 'left', temperature: 4000, bokeh: 0.8, blur: 0.9, exposure: -0.3,
    photo: photo('esplanade', [-150, -125, 150], { exposure: -1.1, tint: '#7f90ff', tintAmount: 0.3, saturation: 1.1 }) },
  lobby: { material: 'marble', color: '#b9ad9c', from: 'left', temperature: 4800, bokeh: 0.1, blur: 0.8, exposure: 0,
    photo: photo('lobby', [-130, 90, 60], { saturation: 0.8, tint: '#ffe8cc', tintAmount: 0.2 }) },
  workshop: { material: 'wood', color: '#7a6a58', from: 'left', temperature: 4600, bokeh: 0.2, blur: 0.85, exposure: -0.05,
    photo: photo('workshop', [-150, -60, 90, 180], { saturation: 0.85 }) },
  park: { material: 'stone', color: '#7f9a66', from: 'top-left', temperature: 5600, bokeh: 0, blur: 0.8, exposure: 0.1,
    photo: photo('park', [-60, 60, 120], { exposure: 0.25, byTime: OUTDOOR_TIMES }) },
  street: { material: 'concrete', color: '#8a8b8e', from: 'left', temperature: 5600, bokeh: 0.1, blur: 0.85, exposure: 0,
    photo: photo('city', [-90, 60, 120], { saturation: 0.9, byTime: { night: { hdri: 'esplanade', views: [60, 90, 120], exposure: -1.2, tint: '#6f86ff', tintAmount: 0.45 } } }) },
};

// ---- backdrops --------------------------------------------------------------------------------

export const BACKDROP = {
  /** an environment backdrop without a preset colour */
  environmentColor: '#6e6a64',
  /** a dark mood on paper */
  darkPaper: '#2a2b2e',
  /** a dark mood elsewhere: the surface colour mixed this far toward `darkTowards` */
  darkTowards: '#141517',
  darkMix: 0.55,
  /** a catalogue shot or a bright mood */
  bright: '#f3f2ef',
  plaster: '#d8d0c4',
  /** paper, or no surface */
  paper: '#e6e3de',
  /** otherwise the surface colour mixed this far toward a paler neutral (a surface above this luma) or a deeper one */
  paleSurfaceLuma: 0.5,
  paler: '#f4f2ee',
  deeper: '#2a2a2c',
  surfaceMix: 0.45,
  /** how far a colour named loosely ("with sage accents") tints the backdrop */
  paletteTint: 0.4,
  /** a paper sweep's floor: the backdrop colour darkened this much */
  sweepFloorShade: 0.04,
  /** blur of an environment without a preset, and of any other backdrop */
  environmentBlur: 0.8,
  blur: 0.5,
};

// ---- light ------------------------------------------------------------------------------------

export interface Angles {
  /** degrees around the product: 0 front, -90 left, 90 right, 180 back */
  azimuth: number;
  /** degrees above the horizon */
  elevation: number;
}

export const DIRECTIONS: Record<Dir, Angles> = {
  left: { azimuth: -90, elevation: 30 }, right: { azimuth: 90, elevation: 30 }, front: { azimuth: 0, elevation: 35 },
  back: { azimuth: 180, elevation: 30 }, top: { azimuth: 0, elevation: 82 },
  'front-left': { azimuth: -45, elevation: 38 }, 'front-right': { azimuth: 45, elevation: 38 },
  'back-left': { azimuth: -135, elevation: 30 }, 'back-right': { azimuth: 135, elevation: 30 },
  'top-left': { azimuth: -90, elevation: 60 }, 'top-right': { azimuth: 90, elevation: 60 },
  'top-front': { azimuth: 0, elevation: 65 }, 'top-back': { azimuth: 180, elevation: 65 },
};

/** Seen from overhead the top of the frame is the far side of the set: "upper left" is behind on the left. */
export const OVERHEAD_DIRECTIONS: Partial<Record<Dir, Angles>> = {
  'top-left': { azimuth: -135, elevation: 50 }, 'top-right': { azimuth: 135, elevation: 50 },
};

/** Naming angles with a direction word (nearestDirection). */
export const NEAREST_DIRECTION = {
  /** at or above this elevation the light is "top" whatever its azimuth */
  topElevation: 75,
  /** a degree of elevation counts this much against a degree of azimuth */
  elevationWeight: 0.6,
  /** the elevation assumed when only an azimuth is given */
  elevation: 35,
};

export interface TimePreset {
  temperature: number;
  /** sun height; without one the direction's own elevation stands */
  elevation?: number;
  hardness: number;
  /** its share of the grade's warmth (see GRADE) */
  warmth: number;
  /** added to the grade's exposure */
  exposure: number;
}

export const TIMES: Record<ScenePlan['light']['time_of_day'], TimePreset> = {
  any: { temperature: 5200, hardness: 0.45, warmth: 0.05, exposure: 0 },
  morning: { temperature: 5000, elevation: 24, hardness: 0.5, warmth: 0.2, exposure: 0.05 },
  'golden-hour': { temperature: 3400, elevation: 10, hardness: 0.65, warmth: 0.55, exposure: 0 },
  noon: { temperature: 5800, elevation: 70, hardness: 0.8, warmth: 0, exposure: 0.1 },
  afternoon: { temperature: 5300, elevation: 38, hardness: 0.6, warmth: 0.1, exposure: 0.05 },
  evening: { temperature: 3700, elevation: 9, hardness: 0.4, warmth: 0.35, exposure: -0.2 },
  night: { temperature: 3600, elevation: 35, hardness: 0.5, warmth: 0.15, exposure: -0.4 },
};

export const LIGHT = {
  /** a window or leaf pattern needs a light hard enough to draw it */
  patternMinHardness: 0.55,
  /** intensity when no mood sets one */
  intensity: 1,
  /** rim light intensity behind the product, and elsewhere */
  backRimIntensity: 0.7,
  rimIntensity: 0.4,
};

/** Light contrast where no mood sets it: editorial and luxury shots, and the others. */
export const STYLE_CONTRAST = { editorial: 0.62, other: 0.5 };

// ---- moods ------------------------------------------------------------------------------------

/**
 * What moods do where the prompt sets no value. "Dark" is dramatic, moody or low-key; "bright" is
 * high-key, bright or airy; "gentle" is soft, airy or high-key. Exposures are added to the grade's;
 * min… and max… bound a value the other presets gave.
 */
export const MOODS = {
  dark: { contrast: 0.78, intensity: 1.1, exposure: -0.18, vignette: 0.55, grain: 0.4 },
  /** low-key, in place of dark's exposure */
  lowKey: { exposure: -0.3 },
  bright: { contrast: 0.28, intensity: 1.15, exposure: 0.2, vignette: 0.08 },
  /** elevation: a lower key light where neither the time of day nor a top direction sets one */
  dramatic: { minHardness: 0.72, elevation: 22 },
  gentle: { maxHardness: 0.25 },
  soft: { maxContrast: 0.42 },
  warm: { maxTemperature: 4000, warmth: 0.15 },
  cool: { minTemperature: 7000, warmth: -0.15 },
  cinematic: { minContrast: 0.65, grain: 0.55 },
  moody: { saturation: 0.88 },
};

// ---- shadow and reflection ----------------------------------------------------------------------

export const SHADOW = {
  /** softness = 1 - hardness × this, at least `minSoftness` */
  softnessPerHardness: 0.85,
  minSoftness: 0.08,
  /** opacity = base + contrast × perContrast */
  opacityBase: 0.4,
  opacityPerContrast: 0.4,
};

export const REFLECTION = {
  /** surfaces at least this glossy reflect the product */
  minGloss: 0.45,
  /** strength = gloss × this, within min..max */
  strengthPerGloss: 0.7,
  minStrength: 0.1,
  maxStrength: 0.8,
};

/** Bokeh at night, at least. */
export const NIGHT_BOKEH = 0.5;

// ---- framing ----------------------------------------------------------------------------------

/**
 * Product height as a share of the frame when the prompt names no size. Heroes leave generous
 * negative space (a little over half the frame); a lifestyle shot gives the scene room to read; a
 * catalogue packshot fills more.
 */
export const DEFAULT_SIZES: Record<ScenePlan['style'], number> = {
  studio: 0.56, editorial: 0.56, luxury: 0.54, minimal: 0.48, catalogue: 0.64, lifestyle: 0.44, 'flat-lay': 0.5,
};

export const SIZE = {
  /** a night city shot is a hero against bokeh, so it stays large */
  cityNight: 0.56,
  /** at most this under a light pattern (it needs room to read) or a high camera */
  roomy: 0.5,
};

/** Horizon height in the frame (0 bottom … 1 top) by camera, and for an environment at eye level. */
export const HORIZON = { low: 0.6, high: 0.34, environment: 0.5, eye: 0.47 };
/** A high camera with the horizon at or below this is an overhead still. */
export const OVERHEAD_MAX_HORIZON = 0.05;

// ---- grade ------------------------------------------------------------------------------------

export const GRADE = {
  /** warmth = clamp((neutralKelvin - temperature) / kelvinPerUnit, ±maxFromKelvin) × kelvinShare + time warmth × timeShare */
  neutralKelvin: 5400,
  kelvinPerUnit: 3200,
  maxFromKelvin: 0.8,
  kelvinShare: 0.6,
  timeShare: 0.4,
  saturation: 1,
  /** where no mood sets them (a catalogue shot takes the bright moods' vignette, an editorial the dark moods' grain) */
  vignette: 0.3,
  grain: 0.3,
};

// ---- edits ------------------------------------------------------------------------------------

/**
 * How far one relative edit ("warmer", "softer shadows", "zoom out") moves a value of the parent
 * plan, and the limits it stops at. "A bit", "slightly" scale a step by `little`; "much", "a lot" by `lots`.
 */
export const EDIT_STEPS = {
  little: 0.5,
  lots: 1.8,
  /** kelvin per "warmer" / "cooler", within minKelvin..maxKelvin; the grade's warmth moves `warmth` with it */
  temperature: 900,
  minKelvin: 1800,
  maxKelvin: 12000,
  warmth: 0.2,
  /** "brighter" / "darker": light intensity (up to maxIntensity) and grade exposure */
  intensity: 0.2,
  maxIntensity: 2,
  exposure: 0.15,
  /** "darker background", "paler table": mixed this far toward black or white, at most maxToneMix */
  toneMix: 0.35,
  maxToneMix: 0.9,
  /** "softer light": hardness down, shadow softness up by `softnessWithLight` */
  hardness: 0.25,
  softnessWithLight: 0.2,
  /** "softer shadows", "darker shadows" */
  shadowSoftness: 0.25,
  shadowOpacity: 0.15,
  /** "longer shadows" lowers the light this many degrees, within minElevation..maxElevation */
  elevation: 10,
  minElevation: 6,
  maxElevation: 90,
  contrast: 0.15,
  blur: 0.2,
  /** up to maxSaturation */
  saturation: 0.2,
  maxSaturation: 2,
  /** "zoom out" / "zoom in" multiply the product's size, kept within minSize..maxSize */
  zoomOut: 0.75,
  zoomIn: 1.25,
  minSize: 0.1,
  maxSize: 0.95,
  /** "more steam" raises an effect by this share (to at least effectFloor); "less steam" lowers it by effectLess */
  effectMore: 0.4,
  effectFloor: 0.35,
  effectLess: 0.5,
};

// ---- words ------------------------------------------------------------------------------------

/**
 * The values the prompt's words set (vocabulary.ts, parse.ts). Where a modifier can come before a
 * word ("soft steam", "strong rim light"), the value is multiplied by the modifier's amount.
 */
export const WORDS = {
  /** "soft", "subtle" … and "heavy", "thick" … before a word */
  modifiers: { less: 0.65, more: 1.4 },
  light: {
    hard: { hardness: 0.85 },
    soft: { hardness: 0.2 },
    warm: { temperature: 3600 },
    candle: { temperature: 2300, intensity: 0.7 },
    cool: { temperature: 7500 },
    daylight: { temperature: 5600 },
    highContrast: { contrast: 0.85 },
    lowContrast: { contrast: 0.25 },
    dim: { intensity: 0.65, exposure: -0.3 },
    bright: { intensity: 1.35, exposure: 0.2 },
    /** "rim light" (modifiable) */
    rim: { intensity: 0.6 },
  },
  shadow: {
    /** a modified "shadow" ("faint shadow") sets this opacity times the modifier */
    opacity: 0.55,
    /** "long shadows": a low light, in degrees */
    long: { elevation: 14 },
    soft: { softness: 0.8, opacity: 0.4 },
    hard: { softness: 0.2, opacity: 0.8 },
    noHarsh: { softness: 0.85, opacity: 0.4 },
  },
  /** a modified "reflection" ("subtle reflection") sets this strength times the modifier */
  reflection: { strength: 0.4 },
  /** effect strength of each effect word (modifiable) */
  effects: { steam: 0.7, smoke: 0.7, mist: 0.6, bokeh: 0.7, rays: 0.6, haze: 0.5, dust: 0.6 },
  /** backdrop blur; a modifier scales the levels from `scaledFrom` up */
  blur: { blurred: 0.8, heavily: 1, slightly: 0.5, sharp: 0.1, scaledFrom: 0.5 },
  /** product height as a share of the frame */
  framing: { closeUp: 0.78, wide: 0.36, negativeSpace: 0.45 },
  grade: {
    pastelSaturation: 0.8,
    neutralSaturation: 0.75,
    vividSaturation: 1.25,
    grain: 0.6,
    vignette: 0.6,
    /** "dark" that describes no surface or backdrop */
    darkExposure: -0.2,
  },
  /** "pastel pink": the colour mixed this far toward white */
  pastelMix: 0.55,
  /** backdrop colour of "a dark / light / medium background" */
  backdropTones: { dark: '#26272a', light: '#eeece8', medium: '#8c8a86' } satisfies Record<Tone, string>,
  /** "pale pink", "deep green" before a backdrop word: the colour mixed this far toward `towards` */
  toneOnColour: {
    light: { towards: '#ffffff', mix: 0.2 }, dark: { towards: '#000000', mix: 0.2 }, medium: { towards: '#808080', mix: 0 },
  } satisfies Record<Tone, { towards: string; mix: number }>,
};
