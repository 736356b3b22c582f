import type { Hdr } from './hdri.js';

/**
 * Image-based light from an environment: its radiance projected on the first nine real spherical
 * harmonics (bands 0–2, per channel), the diffuse irradiance they give for any surface normal
 * (Ramamoorthi & Hanrahan 2001: nine numbers hold a Lambertian surface's light to within a few per
 * cent), and the dominant light — the direction and colour of the part of that light that comes
 * from one side. Directions are the environment's own: y up, the map's centre column along −Z.
 */

/** 27 numbers: nine coefficients × RGB, coefficient-major ([c0 r, c0 g, c0 b, c1 r, …]). */
export type Sh9 = Float64Array;

/** The nine basis functions at a unit direction, written into `out`. */
export function shBasis(x: number, y: number, z: number, out: Float64Array): void {
  out[0] = 0.282095;
  out[1] = 0.488603 * y;
  out[2] = 0.488603 * z;
  out[3] = 0.488603 * x;
  out[4] = 1.092548 * x * y;
  out[5] = 1.092548 * y * z;
  out[6] = 0.315392 * (3 * z * z - 1);
  out[7] = 1.092548 * x * z;
  out[8] = 0.546274 * (x * x - y * y);
}

/** Projects an equirectangular map (row 0 up, as hdri.ts decodes it) onto the nine harmonics. */
export function projectSh(env: Hdr): Sh9 {
  const { width: W, height: H, data } = env;
  const sh = new Float64Array(27);
  const basis = new Float64Array(9);
  const dPhi = (2 * Math.PI) / W;
  const dTheta = Math.PI / H;
  for (let y = 0; y < H; y++) {
    const theta = ((y + 0.5) / H) * Math.PI;
    const st = Math.sin(theta);
    const dy = Math.cos(theta);
    const dOmega = st * dPhi * dTheta;
    for (let x = 0; x < W; x++) {
      // the inverse of sampleDirection's mapping: u = atan2(dx, −dz)
      const phi = ((x + 0.5) / W - 0.5) * 2 * Math.PI;
      const dx = Math.sin(phi) * st;
      const dz = -Math.cos(phi) * st;
      shBasis(dx, dy, dz, basis);
      const i = (y * W + x) * 3;
      const r = data[i]! * dOmega, g = data[i + 1]! * dOmega, b = data[i + 2]! * dOmega;
      for (let k = 0; k < 9; k++) {
        const w = basis[k]!;
        sh[k * 3]! += r * w;
        sh[k * 3 + 1]! += g * w;
        sh[k * 3 + 2]! += b * w;
      }
    }
  }
  return sh;
}

/** the cosine lobe's convolution weight per band: π, 2π/3, π/4 */
const A = [Math.PI, (2 * Math.PI) / 3, (2 * Math.PI) / 3, (2 * Math.PI) / 3, Math.PI / 4, Math.PI / 4, Math.PI / 4, Math.PI / 4, Math.PI / 4];

/**
 * Irradiance on a surface facing unit normal n, divided by π: the radiance a white Lambertian
 * surface there reflects (so a uniform environment of radiance L gives L back). Written into out.
 */
export function irradiance(sh: Sh9, nx: number, ny: number, nz: number, out: Float64Array | Float32Array | number[], basis = new Float64Array(9)): void {
  shBasis(nx, ny, nz, basis);
  let r = 0, g = 0, b = 0;
  for (let k = 0; k < 9; k++) {
    const w = (A[k]! * basis[k]!) / Math.PI;
    r += sh[k * 3]! * w;
    g += sh[k * 3 + 1]! * w;
    b += sh[k * 3 + 2]! * w;
  }
  out[0] = Math.max(0, r);
  out[1] = Math.max(0, g);
  out[2] = Math.max(0, b);
}

export interface DominantLight {
  /** unit vector toward the light, in the environment's frame */
  direction: [number, number, number];
  /** its colour, linear RGB scaled to luminance 1 */
  colour: [number, number, number];
  /**
   * how directional the environment's light is: 0 for the same light from everywhere, toward 1
   * for a single small source (the length of band 1 against band 0, normalised)
   */
  directionality: number;
}

const luma = (r: number, g: number, b: number) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

/**
 * The dominant light: band 1 of the luminance is the best single direction; its colour is what the
 * environment adds on that side over the opposite side (the directional part of the irradiance).
 */
export function dominantLight(sh: Sh9): DominantLight {
  const band = (k: number) => luma(sh[k * 3]!, sh[k * 3 + 1]!, sh[k * 3 + 2]!);
  // basis order: 1 → y, 2 → z, 3 → x
  let x = band(3), y = band(1), z = band(2);
  const len = Math.hypot(x, y, z);
  if (len === 0) { x = 0; y = 1; z = 0; } else { x /= len; y /= len; z /= len; }
  const toward = [0, 0, 0];
  const away = [0, 0, 0];
  irradiance(sh, x, y, z, toward);
  irradiance(sh, -x, -y, -z, away);
  let c = [toward[0]! - away[0]!, toward[1]! - away[1]!, toward[2]! - away[2]!].map((v) => Math.max(1e-6, v));
  const l = luma(c[0]!, c[1]!, c[2]!);
  c = c.map((v) => v / l);
  // band 1 of a single point source is √3 × band 0 (in these units); a uniform sphere has none
  const l0 = band(0);
  const directionality = l0 > 0 ? Math.min(1, len / (l0 * Math.sqrt(3))) : 0;
  return { direction: [x, y, z], colour: [c[0]!, c[1]!, c[2]!], directionality };
}
