import type { SceneOverride } from '../../src/contract/scene.js';

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
