import type { SceneOverride, ScenePlan } from '../../src/contract/scene.js';

/**
 * The fine controls. Each is `null` until the person touches it, so only what they set is sent in
 * `input.scene` and the prompt decides everything else.
 */
export interface SceneSettings {
  /** plan degrees: 0 front (camera side), -90 left, 90 right, 180 back */
  azimuth: number | null;
  /** 0 diffuse … 1 hard */
  hardness: number | null;
  /** -1 cool … 1 warm */
  warmth: number | null;
  material: string | null;
  /** a backdrop kind (`sweep`) or `environment:cafe` */
  backdrop: string | null;
  /** 0 none … 1 deep */
  shadow: number | null;
  /** product height as a fraction of the frame */
  size: number | null;
}

export const EMPTY_SCENE: SceneSettings = {
  azimuth: null,
  hardness: null,
  warmth: null,
  material: null,
  backdrop: null,
  shadow: null,
  size: null,
};

/** Warmth slider → key light colour temperature: 1 is candle-warm 2700 K, -1 is shade-cool 8300 K. */
export function warmthToKelvin(warmth: number): number {
  return Math.round((5500 - warmth * 2800) / 100) * 100;
}

/** The slider position for a plan's colour temperature (the inverse of warmthToKelvin). */
export function kelvinToWarmth(kelvin: number): number {
  return Math.max(-1, Math.min(1, Math.round(((5500 - kelvin) / 2800) * 10) / 10));
}

/** The partial plan for `input.scene`, or undefined when nothing was set. */
export function sceneOverride(s: SceneSettings): SceneOverride | undefined {
  const out: SceneOverride = {};
  const light: NonNullable<SceneOverride['light']> = {};
  // The angle alone: the planner names the direction after it (and moves the shadow with it).
  if (s.azimuth !== null) light.azimuth = s.azimuth;
  if (s.hardness !== null) light.hardness = s.hardness;
  if (s.warmth !== null) light.temperature = warmthToKelvin(s.warmth);
  if (Object.keys(light).length) out.light = light;
  if (s.material !== null) out.surface = { material: s.material as NonNullable<SceneOverride['surface']>['material'] };
  if (s.backdrop !== null) {
    out.backdrop = s.backdrop.startsWith('environment:')
      ? { kind: 'environment', environment: s.backdrop.slice('environment:'.length) as NonNullable<SceneOverride['backdrop']>['environment'] }
      : { kind: s.backdrop as NonNullable<SceneOverride['backdrop']>['kind'] };
  }
  if (s.shadow !== null) out.shadow = s.shadow === 0 ? { cast: false, contact: false, opacity: 0 } : { cast: true, contact: true, opacity: s.shadow };
  if (s.size !== null) out.framing = { size: s.size };
  return Object.keys(out).length ? out : undefined;
}

/** One of the "4 variants": what it changes, in a photographer's words, and the `input.scene` that does it. */
export interface Variant {
  label: string;
  scene: SceneOverride;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round2 = (v: number) => Math.round(v * 100) / 100;

/** A colour moved towards white (amount > 0) or black (amount < 0). */
function shade(hex: string, amount: number): string {
  const target = amount > 0 ? 255 : 0;
  const k = Math.abs(amount);
  const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${rgb.map((c) => Math.round(c + (target - c) * k).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Four takes on a plan that vary what a photographer would between frames: the light's side and
 * height, the camera's height, the surface's tone and the crop. Each is an `input.scene` sent with
 * the same prompt and seed, merged over what the turn itself sent.
 */
export function variantScenes(plan: ScenePlan, sent?: SceneOverride): Variant[] {
  const { light, framing, surface } = plan;
  // the other side; a light from the front or back swings to 60° off the axis
  const mirrored = Math.abs(light.azimuth) < 20 || Math.abs(light.azimuth) > 160 ? (light.azimuth >= 0 ? -60 : 60) : -light.azimuth;
  const side = light.azimuth >= 0 ? 90 : -90;
  const higher = round2(clamp(light.elevation + 25, 0, 80));
  const tighter = round2(clamp(framing.size * 1.2, 0.1, 0.9));
  const wider = round2(clamp(framing.size * 0.8, 0.1, 0.9));
  const lighter = surface.tone !== 'light';
  const low = framing.camera === 'low' ? 'eye' : 'low';
  const high = framing.camera === 'high' ? 'eye' : 'high';
  const merge = (v: SceneOverride): SceneOverride => ({
    ...sent,
    ...v,
    light: v.light ? { ...sent?.light, ...v.light } : sent?.light,
    framing: v.framing ? { ...sent?.framing, ...v.framing } : sent?.framing,
    surface: v.surface ? { ...sent?.surface, ...v.surface } : sent?.surface,
  });
  const variants: Variant[] = [
    { label: `Light from the ${mirrored < 0 ? 'left' : 'right'}, higher`, scene: { light: { azimuth: mirrored, elevation: higher } } },
    { label: `${low === 'low' ? 'Low' : 'Eye-level'} camera, tighter crop`, scene: { framing: { camera: low, size: tighter } } },
    { label: `${high === 'high' ? 'High' : 'Eye-level'} camera, wider crop`, scene: { framing: { camera: high, size: wider } } },
    {
      label: `Low side light, ${lighter ? 'lighter' : 'darker'} surface`,
      scene: {
        light: { azimuth: side, elevation: 12 },
        ...(surface.material === 'none' ? {} : { surface: { color: shade(surface.color, lighter ? 0.45 : -0.45), tone: lighter ? 'light' : 'medium' } }),
      },
    },
  ];
  // through JSON: the merge leaves `undefined` for the parts neither sets, and those are not sent
  return variants.map((v) => ({ label: v.label, scene: JSON.parse(JSON.stringify(merge(v.scene))) as SceneOverride }));
}
