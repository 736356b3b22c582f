import { z } from 'zod';

/**
 * The ScenePlan: what a prompt becomes before any pixel work (docs/scene-plan.md). It is plain JSON,
 * readable by people (materials, moods and directions are words, numbers sit beside them) and
 * mergeable: a later edit or `input.scene` is a partial plan deep-merged over it.
 *
 * `SceneOverrideSchema` is the partial plan accepted in `input.scene`; unknown keys are rejected
 * with their path so a typo never silently does nothing.
 */

export const SURFACE_MATERIALS = [
  'none', 'slate', 'marble', 'wood', 'concrete', 'stone', 'linen', 'terrazzo', 'sand', 'paper', 'metal', 'glass', 'mirror', 'water',
] as const;
export const TONES = ['light', 'medium', 'dark'] as const;
export const FINISHES = ['matte', 'satin', 'glossy', 'mirror'] as const;
export const BACKDROP_KINDS = ['sweep', 'wall', 'plaster', 'gradient', 'solid', 'environment'] as const;
export const ENVIRONMENTS = [
  'none', 'cafe', 'kitchen', 'bathroom', 'living-room', 'bedroom', 'office', 'garden', 'forest', 'beach', 'city-night',
  'lobby', 'workshop', 'park', 'street',
] as const;
export const LIGHT_DIRECTIONS = [
  'left', 'right', 'front', 'back', 'top',
  'front-left', 'front-right', 'back-left', 'back-right', 'top-left', 'top-right', 'top-front', 'top-back',
] as const;
export const TIMES_OF_DAY = ['any', 'morning', 'golden-hour', 'noon', 'afternoon', 'evening', 'night'] as const;
export const MOODS = ['dramatic', 'moody', 'low-key', 'high-key', 'bright', 'airy', 'soft', 'warm', 'cool', 'natural', 'cinematic'] as const;
export const LIGHT_PATTERNS = ['none', 'window', 'blinds', 'leaves'] as const;
export const EFFECTS = ['steam', 'smoke', 'mist', 'bokeh', 'rays', 'haze', 'dust'] as const;
export const POSITIONS = ['center', 'left', 'right', 'left-third', 'right-third'] as const;
export const CAMERAS = ['low', 'eye', 'high', 'top-down'] as const;
export const STYLES = ['studio', 'editorial', 'lifestyle', 'minimal', 'luxury', 'catalogue', 'flat-lay'] as const;

const hex = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #a1b2c3');
const unit = z.number().min(0).max(1);

export const SurfaceSchema = z.strictObject({
  material: z.enum(SURFACE_MATERIALS),
  tone: z.enum(TONES),
  color: hex,
  finish: z.enum(FINISHES),
  /** 0 matte … 1 mirror */
  gloss: unit,
});

export const BackdropSchema = z.strictObject({
  kind: z.enum(BACKDROP_KINDS),
  environment: z.enum(ENVIRONMENTS),
  color: hex,
  /** 0 sharp … 1 fully defocused */
  blur: unit,
});

export const LightSchema = z.strictObject({
  from: z.enum(LIGHT_DIRECTIONS),
  /** degrees around the product: 0 front (camera side), -90 left, 90 right, 180 back */
  azimuth: z.number().min(-180).max(180),
  /** degrees above the surface */
  elevation: z.number().min(0).max(90),
  /** 0 diffuse … 1 hard (sharp shadows) */
  hardness: unit,
  /** kelvin */
  temperature: z.number().min(1800).max(12000),
  intensity: z.number().min(0).max(2),
  contrast: unit,
  time_of_day: z.enum(TIMES_OF_DAY),
  rim: z.strictObject({ enabled: z.boolean(), intensity: unit }),
  pattern: z.enum(LIGHT_PATTERNS),
  /** false leaves the product's pixels exactly as cut out */
  relight_product: z.boolean(),
});

export const ShadowSchema = z.strictObject({
  cast: z.boolean(),
  contact: z.boolean(),
  softness: unit,
  opacity: unit,
  /** the direction the cast shadow falls, in the same degrees as light.azimuth (derived from the light) */
  direction: z.number().min(-180).max(180),
});

export const ReflectionSchema = z.strictObject({ enabled: z.boolean(), strength: unit });

export const EffectsSchema = z.strictObject(
  Object.fromEntries(EFFECTS.map((e) => [e, unit])) as Record<(typeof EFFECTS)[number], typeof unit>,
);

export const FramingSchema = z.strictObject({
  /**
   * product height as a fraction of the frame height (a landscape frame lets it stand up to a fifth
   * taller; a product wider than tall is held to about the same share of the frame's width)
   */
  size: z.number().min(0.1).max(0.95),
  position: z.enum(POSITIONS),
  camera: z.enum(CAMERAS),
  /** where the surface's far edge meets the backdrop, as a fraction of the frame height from the top */
  horizon: z.number().min(0).max(0.95),
});

export const PaletteSchema = z.strictObject({ names: z.array(z.string().max(40)).max(16), colors: z.array(hex).max(16) });

export const GradeSchema = z.strictObject({
  /** -1 cool … 1 warm, applied to the scene (never to the product) */
  warmth: z.number().min(-1).max(1),
  exposure: z.number().min(-1).max(1),
  saturation: z.number().min(0).max(2),
  vignette: unit,
  grain: unit,
});

/**
 * Where the products go, for a scene photo or a group: fractions of the output frame. `x` is the
 * group's centre column, `y` the row the products stand on, `height` the tallest product's height,
 * `sizes` the products' heights relative to each other (in reference order; default: their pixel
 * heights in their sources).
 */
export const PlacementSchema = z.strictObject({
  x: unit,
  y: unit,
  height: z.number().min(0.02).max(0.95),
  sizes: z.array(z.number().positive().max(100)).max(5),
}).partial();

export const REFERENCE_ROLE_NAMES = ['product', 'scene', 'style'] as const;
/** How a reference's role was decided. */
export const ROLE_SOURCES = ['input.roles', 'prompt', 'detected', 'default'] as const;

const ReferenceSchema = z.strictObject({
  /** 1-based, as people count images ("image 2") */
  index: z.number().int().min(1),
  role: z.enum(REFERENCE_ROLE_NAMES),
  source: z.enum(ROLE_SOURCES),
});

/** One field a relative edit changed: `{ path: "light.temperature", from: 4500, to: 3600 }`. */
const ChangeSchema = z.strictObject({ path: z.string(), from: z.unknown(), to: z.unknown() });

const WordSchema = z.strictObject({ text: z.string(), start: z.number(), end: z.number(), fields: z.array(z.string()) });

/** The full plan, as reported in the task's `reshoot.plan`. */
export const ScenePlanSchema = z.strictObject({
  version: z.literal(1),
  style: z.enum(STYLES),
  mood: z.array(z.enum(MOODS)),
  surface: SurfaceSchema,
  backdrop: BackdropSchema,
  light: LightSchema,
  shadow: ShadowSchema,
  reflection: ReflectionSchema,
  effects: EffectsSchema,
  framing: FramingSchema,
  palette: PaletteSchema,
  grade: GradeSchema,
  product: z.strictObject({ description: z.string() }),
  words: z.strictObject({
    understood: z.array(WordSchema),
    unused: z.array(z.string()),
    /** what the render did with words it could not follow as written ("steam: dropped — the product has no opening …") */
    notes: z.array(z.string()).optional(),
  }),
  /** the roles the references played (only when there was more than one, or roles were given) */
  references: z.array(ReferenceSchema).optional(),
  /** what a relative edit (multi-turn) changed in the parent's plan */
  changes: z.array(ChangeSchema).optional(),
  /** the look borrowed from a style reference, and the values taken */
  style_from: z.strictObject({ index: z.number().int().min(1), values: z.record(z.string(), z.unknown()) }).optional(),
  /**
   * what was read from a scene photo: the surface row and the light (fractions of the output frame);
   * `index` for a scene reference, `library` for a photo of the operator's scene library (RESHOOT_SCENES_DIR)
   * that the prompt named by a tag (its content hash, so a re-render uses the same photo)
   */
  scene_photo: z.strictObject({
    index: z.number().int().min(1).optional(),
    library: z.strictObject({ id: z.string(), title: z.string(), tag: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
    surface_y: z.number(),
    light: z.strictObject({ from: z.enum(LIGHT_DIRECTIONS), azimuth: z.number(), temperature: z.number(), luminance: z.number() }),
  }).optional(),
  placement: PlacementSchema.optional(),
});
export type ScenePlan = z.infer<typeof ScenePlanSchema>;

/** `input.scene` / `--scene`: any subset of the plan's settings; explicit values win over the prompt. */
export const SceneOverrideSchema = z.strictObject({
  style: z.enum(STYLES).optional(),
  mood: z.array(z.enum(MOODS)).max(8).optional(),
  surface: SurfaceSchema.partial().optional(),
  backdrop: BackdropSchema.partial().optional(),
  light: LightSchema.extend({ rim: LightSchema.shape.rim.partial() }).partial().optional(),
  shadow: ShadowSchema.partial().optional(),
  reflection: ReflectionSchema.partial().optional(),
  effects: EffectsSchema.partial().optional(),
  framing: FramingSchema.partial().optional(),
  palette: PaletteSchema.partial().optional(),
  grade: GradeSchema.partial().optional(),
  placement: PlacementSchema.optional(),
});
export type SceneOverride = z.infer<typeof SceneOverrideSchema>;
