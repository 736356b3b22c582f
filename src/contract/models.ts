/**
 * The model registry: every name we accept, its limits and the rule set that applies to it.
 * The API, the SDK and the web studio all read these tables (docs/contract.md §3.2, §14, §15).
 */

export const ASPECT_RATIOS = [
  'auto', '1:1', '3:2', '2:3', '4:3', '3:4', '5:4', '4:5', '16:9', '9:16', '2:1', '1:2', '3:1', '1:3', '21:9', '9:21',
] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const PRO_ASPECT_RATIOS = ['auto', '1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'] as const;

export const RESOLUTIONS = ['1K', '2K', '4K'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export const OUTPUT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The file extension an output of each format is stored and saved under. */
export const OUTPUT_EXTENSIONS: Readonly<Record<OutputFormat, string>> = { png: 'png', jpeg: 'jpg', webp: 'webp' };

export const BACKGROUNDS = ['auto', 'opaque', 'transparent'] as const;
export type Background = (typeof BACKGROUNDS)[number];

/**
 * Which cross-field rules apply: `classic` for the hyphenated names (§3.2), `slashed` for the later
 * `gpt-image-2/...` names (§14), `pro` for the Pro variant (no cross-field rules).
 */
export type RuleSet = 'classic' | 'slashed' | 'pro';
export type Tier = 'standard' | 'pro';

export interface ModelSpec {
  /** the name a client sends; echoed back in the task object */
  name: string;
  /** the name prices and routes are keyed by */
  canonical: string;
  tier: Tier;
  rules: RuleSet;
  minRefs: number;
  maxRefs: number;
  aspectRatios: readonly AspectRatio[];
  resolutions: readonly Resolution[];
  defaultAspectRatio: AspectRatio;
  defaultResolution: Resolution;
  /** default price per task in USD (DESIGN.md); the operator's pricing table overrides it */
  priceUsd: number;
  description: string;
}

const standard = {
  canonical: 'gpt-image-2-image-to-image',
  tier: 'standard',
  minRefs: 1,
  maxRefs: 16,
  aspectRatios: ASPECT_RATIOS,
  resolutions: RESOLUTIONS,
  defaultAspectRatio: 'auto',
  defaultResolution: '1K',
  priceUsd: 0,
  description: 'Image-to-image: a new scene, light and framing around the unchanged product (1-16 references).',
} as const;

export const MODELS: Readonly<Record<string, ModelSpec>> = Object.freeze({
  'gpt-image-2-image-to-image': { ...standard, name: 'gpt-image-2-image-to-image', rules: 'classic' },
  'gpt-image-2/image-to-image': { ...standard, name: 'gpt-image-2/image-to-image', rules: 'slashed' },
  'gpt-image-2-image-to-image-pro': {
    name: 'gpt-image-2-image-to-image-pro',
    canonical: 'gpt-image-2-image-to-image-pro',
    tier: 'pro',
    rules: 'pro',
    minRefs: 1,
    maxRefs: 5,
    aspectRatios: PRO_ASPECT_RATIOS,
    resolutions: ['1K', '2K'],
    defaultAspectRatio: 'auto',
    defaultResolution: '1K',
    priceUsd: 0.4,
    description: 'Production renders from 1-5 references: products, a scene photo, a style reference.',
  },
});

export const MODEL_NAMES = Object.keys(MODELS);

/** The engines a task's `route` can select: the local studio and the generative upstreams (src/providers). */
export const ENGINE_NAMES = ['studio', 'hiapi', 'openai', 'comfyui'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/**
 * Routes the top-level `route` field may name (§14, D15): `default` (the server's default engine)
 * or an engine by name. A server accepts only the engines it has configured (validateCreateBody's
 * `routes`); this is every route any server may accept.
 */
export const ROUTES = ['default', ...ENGINE_NAMES] as const;
export type Route = (typeof ROUTES)[number];

/** `input.lock`: what the product lock does with a generative upstream's frame (engine/lock). */
export const LOCK_MODES = ['strict', 'blend', 'off'] as const;
export type LockModeName = (typeof LOCK_MODES)[number];

/** Slashed-name rules (§14): ratios that are unavailable at a resolution. */
const SLASHED_UNAVAILABLE: Record<Resolution, readonly AspectRatio[]> = {
  '1K': [],
  '2K': ['5:4', '4:5', '3:1', '1:3', '9:21'],
  '4K': ['3:1', '1:3', '9:21'],
};

/**
 * Returns why a ratio/resolution pair is not allowed for a model, or null when it is.
 * One table for the server, the SDK and the studio's disabled options.
 */
export function comboProblem(spec: ModelSpec, aspectRatio: AspectRatio, resolution: Resolution): string | null {
  if (!spec.aspectRatios.includes(aspectRatio) || !spec.resolutions.includes(resolution)) return 'not offered by this model';
  if (spec.rules === 'pro') return null;
  if (aspectRatio === 'auto' && resolution !== '1K') return `aspect_ratio auto is only allowed with resolution 1K`;
  if (spec.rules === 'classic' && aspectRatio === '1:1' && resolution === '4K') return 'resolution 4K is not allowed with aspect_ratio 1:1';
  if (spec.rules === 'slashed' && SLASHED_UNAVAILABLE[resolution].includes(aspectRatio)) {
    return `resolution ${resolution} is not available for aspect_ratio ${aspectRatio}`;
  }
  return null;
}

/** `auto` follows the source's ratio up to the widest ratio served (3:1 and 1:3), and is clamped there. */
export const MAX_AUTO_RATIO = 3;

/** The ratio `auto` gives a source: its own, clamped to 1:3 … 3:1 (a 20000×20 strip is framed at 3:1). */
export function autoRatio(source: { width: number; height: number }): { ratio: number; clamped: boolean } {
  const own = source.width / source.height;
  const ratio = Math.min(MAX_AUTO_RATIO, Math.max(1 / MAX_AUTO_RATIO, own));
  return { ratio, clamped: ratio !== own };
}

/**
 * A product enlarged more than this from its photo to fill its place in the output looks soft: the
 * result carries a warning, and the studio warns before rendering.
 */
export const UPSCALE_WARNING = 2;

/** Output pixel size for a ratio at a resolution (the long side 1024/2048/3840, the short side a multiple of 16); `auto` uses autoRatio. */
export function outputSize(
  aspectRatio: AspectRatio,
  resolution: Resolution,
  source?: { width: number; height: number },
): { width: number; height: number } {
  const long = resolution === '1K' ? 1024 : resolution === '2K' ? 2048 : 3840;
  let rw: number;
  let rh: number;
  if (aspectRatio === 'auto') {
    const auto = source ? autoRatio(source) : { ratio: 1, clamped: true };
    [rw, rh] = auto.clamped ? [auto.ratio, 1] : [source!.width, source!.height];
  } else {
    [rw, rh] = aspectRatio.split(':').map(Number) as [number, number];
  }
  const round16 = (v: number) => Math.max(16, Math.round(v / 16) * 16);
  return rw >= rh ? { width: long, height: round16((long * rh) / rw) } : { width: round16((long * rw) / rh), height: long };
}
