/**
 * Colour helpers for the studio: sRGB ↔ linear lookup tables and light colour from a temperature.
 * Light is mixed in linear RGB; 8-bit sRGB only at the edges.
 */

let toLinear: Float32Array | undefined;
let toSrgb: Uint8Array | undefined;
/** steps of the linear → sRGB table over [0, 1] */
export const SRGB_STEPS = 4096;

/** 256-entry table: sRGB byte → linear [0, 1]. */
export function srgbToLinearLut(): Float32Array {
  if (!toLinear) {
    toLinear = new Float32Array(256);
    for (let i = 0; i < 256; i++) {
      const c = i / 255;
      toLinear[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }
  }
  return toLinear;
}

/** The table behind {@link linearToSrgbFn}, for loops that index it directly: entry `round(v * SRGB_STEPS)` for v in [0, 1]. */
export function srgbTable(): Uint8Array {
  if (!toSrgb) {
    toSrgb = new Uint8Array(SRGB_STEPS + 1);
    for (let i = 0; i <= SRGB_STEPS; i++) {
      const c = i / SRGB_STEPS;
      const v = c <= 0.0031308 ? c * 12.92 : 1.055 * c ** (1 / 2.4) - 0.055;
      toSrgb[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  return toSrgb;
}

/** Linear float → sRGB byte (through a 4096-step table; fast enough for whole frames). */
export function linearToSrgbFn(): (v: number) => number {
  const t = srgbTable();
  return (v) => t[v <= 0 ? 0 : v >= 1 ? SRGB_STEPS : (v * SRGB_STEPS + 0.5) | 0]!;
}

export function hexToLinear(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  const l = srgbToLinearLut();
  return [l[(n >> 16) & 255]!, l[(n >> 8) & 255]!, l[n & 255]!];
}

/** Approximate colour of a black body at `kelvin`, normalised so its luminance is 1 (linear RGB). */
export function kelvinToLinear(kelvin: number): [number, number, number] {
  const t = kelvin / 100;
  let r: number, g: number, b: number;
  if (t <= 66) {
    r = 255;
    g = 99.4708025861 * Math.log(t) - 161.1195681661;
    b = t <= 19 ? 0 : 138.5177312231 * Math.log(t - 10) - 305.0447927307;
  } else {
    r = 329.698727446 * (t - 60) ** -0.1332047592;
    g = 288.1221695283 * (t - 60) ** -0.0755148492;
    b = 255;
  }
  const l = srgbToLinearLut();
  const lin = [r, g, b].map((v) => l[Math.round(Math.min(255, Math.max(0, v)))]!) as [number, number, number];
  const y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return [lin[0] / y, lin[1] / y, lin[2] / y];
}

/** Mixes a light colour toward white: real scenes are never lit by a pure black-body hue. */
export function softenLight(c: [number, number, number], amount: number): [number, number, number] {
  return [1 + (c[0] - 1) * amount, 1 + (c[1] - 1) * amount, 1 + (c[2] - 1) * amount];
}
