import type { ScenePlan } from '../../contract/scene.js';
import { ENVIRONMENTS as ENV_PRESETS, type EnvironmentPhoto } from '../../plan/presets.js';
import { hexToLinear } from '../raster/color.js';
import { ENVIRONMENT_NAMES, loadEnvironment, reproject, type EnvironmentName, type Hdr } from '../raster/hdri.js';
import { createRng } from '../raster/noise.js';
import { dominantLight, projectSh, type DominantLight, type Sh9 } from '../raster/sh.js';

/**
 * Photographic backdrops: a lifestyle environment ("cafe", "workshop", "park at golden hour") is one
 * of the 18 CC0 HDR photographs, seen through a camera whose pitch puts the photograph's horizon on
 * the set's vanishing line, defocused by a lens blur that works on the HDR values (a bright lamp
 * spreads into a bright disc, as it does through a real lens wide open), then graded. The same
 * photograph lights the product (light/relight.ts, from its spherical harmonics). Environments with
 * no fitting photograph keep the drawn rooms of backdrop.ts.
 */

type Env = Exclude<ScenePlan['backdrop']['environment'], 'none'>;

/** The photograph, the direction the camera looks and how it is graded, for one render. */
export interface EnvironmentLook {
  hdri: EnvironmentName;
  /** camera turn (degrees, 0 = the map's centre column, positive to the right) */
  yaw: number;
  photo: EnvironmentPhoto;
}

/**
 * The photograph a plan's environment calls for (by its time of day where one is set), or null.
 * Given the photograph's dominant light, a view is chosen where that light falls from the plan's
 * side (a window on the left for light from the left), so the backdrop, the product's light and the
 * cast shadow agree; among such views, and where the light has no side (overhead lamps, an overcast
 * sky), the seed picks.
 */
export function environmentLook(plan: ScenePlan, seed: number, light?: DominantLight): EnvironmentLook | null {
  if (plan.backdrop.kind !== 'environment' || plan.backdrop.environment === 'none') return null;
  const preset = ENV_PRESETS[plan.backdrop.environment as Env]?.photo;
  if (!preset) return null;
  const photo: EnvironmentPhoto = { ...preset, ...preset.byTime?.[plan.light.time_of_day] };
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(photo.hdri)) throw new Error(`environment preset names an unknown photograph: ${photo.hdri}`);
  let views = photo.views;
  if (light && light.directionality > 0.3 && Math.abs(light.direction[1]) < 0.7) {
    // the light's azimuth as the plan counts it (0 camera side, −90 left) when the camera turns by v
    const theta = (Math.atan2(light.direction[0], -light.direction[2]) * 180) / Math.PI;
    const off = (v: number) => Math.abs(((v + 180 - theta - plan.light.azimuth) % 360 + 540) % 360 - 180);
    const near = views.filter((v) => off(v) <= 55);
    views = near.length > 0 ? near : [views.reduce((a, b) => (off(b) < off(a) ? b : a))];
  }
  // the seed picks one of the views worth looking at, and turns it a little: two seeds, two corners of the room
  const rng = createRng(seed, 47);
  const view = views[Math.floor(rng() * views.length) % views.length] ?? 0;
  const yaw = view + (rng() - 0.5) * 2 * photo.jitter;
  return { hdri: photo.hdri as EnvironmentName, yaw, photo };
}

export interface PreparedEnvironment {
  hdr: Hdr;
  sh: Sh9;
  light: DominantLight;
  /** mean luminance over the sphere */
  mean: number;
}

const prepared = new Map<EnvironmentName, Promise<PreparedEnvironment>>();

/** The decoded photograph with its highlights repaired, its harmonics and dominant light (cached per process). */
export function prepareEnvironment(name: EnvironmentName): Promise<PreparedEnvironment> {
  let p = prepared.get(name);
  if (!p) {
    p = loadEnvironment(name).then((raw) => {
      const hdr = repairHighlights(raw);
      const sh = projectSh(hdr);
      const mean = 0.2126 * sh[0]! + 0.7152 * sh[1]! + 0.0722 * sh[2]!;
      // band 0 over the sphere: Y0 = 1/√(4π), so the mean radiance is c0 × Y0
      return { hdr, sh, light: dominantLight(sh), mean: mean * 0.282095 };
    });
    prepared.set(name, p);
    p.catch(() => prepared.delete(name));
  }
  return p;
}

const BLOCK = 8;

/**
 * The photographs are stored with lossy 8×8-block compression, which rings around the brightest
 * sources (the sun, bare bulbs): pixels of zero next to pixels carrying the whole block's light in
 * one channel (a blue square where the sun is). Each block holding such a source is replaced by its
 * mean, which keeps the light it carries (what a lens blur and the irradiance see) and loses only
 * detail finer than the block; a block whose light sits in one channel takes its neighbours' hue.
 */
export function repairHighlights(env: Hdr): Hdr {
  const { width: W, height: H } = env;
  const data = Float32Array.from(env.data);
  let sum = 0;
  for (let i = 0; i < W * H; i++) sum += 0.2126 * data[i * 3]! + 0.7152 * data[i * 3 + 1]! + 0.0722 * data[i * 3 + 2]!;
  const limit = Math.max(8, 40 * (sum / (W * H)));
  for (let by = 0; by < H; by += BLOCK) {
    for (let bx = 0; bx < W; bx += BLOCK) {
      let peak = 0;
      const m = [0, 0, 0];
      let n = 0;
      for (let y = by; y < Math.min(H, by + BLOCK); y++) {
        for (let x = bx; x < Math.min(W, bx + BLOCK); x++) {
          const i = (y * W + x) * 3;
          peak = Math.max(peak, data[i]!, data[i + 1]!, data[i + 2]!);
          m[0]! += data[i]!; m[1]! += data[i + 1]!; m[2]! += data[i + 2]!;
          n++;
        }
      }
      if (peak < limit) continue;
      let [r, g, b] = [m[0]! / n, m[1]! / n, m[2]! / n];
      const top = Math.max(r, g, b);
      const low = Math.min(r, g, b);
      if (low < top * 0.15) {
        // one channel carries it: the decoder's ringing, not the light's colour; a warm white
        const level = (r + g + b) / 3;
        [r, g, b] = [level * 1.05, level * 1.0, level * 0.92];
      }
      for (let y = by; y < Math.min(H, by + BLOCK); y++) {
        for (let x = bx; x < Math.min(W, bx + BLOCK); x++) {
          const i = (y * W + x) * 3;
          data[i] = r; data[i + 1] = g; data[i + 2] = b;
        }
      }
    }
  }
  return { data, width: W, height: H };
}

export interface ViewRequest {
  look: EnvironmentLook;
  /** the backdrop's size (the working frame) */
  width: number;
  height: number;
  /** row of the set's vanishing line, in the same pixels: the photograph's horizon goes there */
  horizonY: number;
  /** 0..1, the plan's backdrop blur */
  blur: number;
  /**
   * 'fast' blurs at a reduced size (the disc a few pixels across) and upsamples smoothly; 'full'
   * blurs at the frame's own size with the whole disc (Pro)
   */
  quality: 'fast' | 'full';
}

/** The camera's pitch (degrees, negative looks down) that puts the horizon on row horizonY. */
export function pitchFor(horizonY: number, height: number, width: number, fov: number): number {
  const f = width / 2 / Math.tan((fov * Math.PI) / 360);
  return (Math.atan((horizonY - height / 2) / f) * 180) / Math.PI;
}

/** The lens blur's disc radius at the frame size, in pixels. */
export function discRadius(blur: number, width: number, height: number): number {
  return Math.max(width, height) * (0.004 + 0.03 * blur);
}

/**
 * The graded, defocused view as linear RGB at width × height, exposed so the backdrop sits about
 * a stop under the product (the subject stays the brightest thing in frame).
 */
export async function renderEnvironment(req: ViewRequest): Promise<Float32Array> {
  const { look, width: W, height: H } = req;
  const env = await prepareEnvironment(look.hdri);
  const photo = look.photo;
  const R = discRadius(req.blur, W, H);
  // the reduced size: a disc of about 6 pixels (fast) or 16 (full), never above the frame's size
  const target = req.quality === 'full' ? 16 : 6;
  const s = Math.max(1, R / target);
  const rw = Math.max(8, Math.round(W / s));
  const rh = Math.max(8, Math.round(H / s));
  const pitch = pitchFor(req.horizonY, H, W, photo.fov);
  const radius = R * (rw / W);
  // the defocused view at the reduced size depends on nothing else: renders of the same scene and
  // seed (a catalogue's products, one prompt) reuse it
  const key = `${look.hdri}|${look.yaw}|${pitch}|${radius}|${rw}x${rh}|${JSON.stringify(photo)}`;
  let blurred = views.get(key);
  if (blurred) {
    views.delete(key);
  } else {
    const view = reproject(env.hdr, { width: rw, height: rh, yaw: look.yaw, pitch, fov: photo.fov });
    blurred = discBlur(view.data, rw, rh, radius);
    grade(blurred, rw * rh, env, photo);
    viewBytes += blurred.byteLength;
  }
  views.set(key, blurred);
  for (const [k, v] of views) {
    if (viewBytes <= VIEW_CACHE_BYTES || k === key) break;
    views.delete(k);
    viewBytes -= v.byteLength;
  }
  // the caller draws over what it is handed: never the cached view itself
  return rw === W && rh === H ? Float32Array.from(blurred) : upsample(blurred, rw, rh, W, H);
}

/** Defocused, graded views at their reduced size, least recently used first (per thread). */
const views = new Map<string, Float32Array>();
/** the views' bound in bytes per thread (a 1K view at the fast size is about 100 KB, a Pro one about 1 MB) */
const VIEW_CACHE_BYTES = 24 << 20;
let viewBytes = 0;

/**
 * Lens blur: every pixel spread over a disc (uniform, as through an open round aperture), summed
 * with one prefix sum per row so a disc costs its height, not its area. Values are linear and
 * unclipped, so a source many times brighter than the wall stays a bright disc of its own.
 */
export function discBlur(src: Float32Array, w: number, h: number, radius: number): Float32Array {
  const r = Math.max(0, radius);
  const R = Math.ceil(r);
  if (R === 0) return Float32Array.from(src);
  // half-widths of the disc's rows, with a fractional edge weight so the disc's size varies smoothly
  const half: number[] = [];
  const edge: number[] = [];
  let area = 0;
  for (let dy = -R; dy <= R; dy++) {
    const span = r * r - dy * dy;
    const hw = span > 0 ? Math.sqrt(span) : -1;
    const whole = hw < 0 ? -1 : Math.floor(hw);
    half.push(whole);
    const frac = hw < 0 ? 0 : hw - whole;
    edge.push(frac);
    area += whole >= 0 ? 2 * whole + 1 + 2 * frac : 0;
  }
  const pw = w + 2 * R + 2;
  const out = new Float32Array(w * h * 3);
  const rows: Float64Array[] = [];
  // prefix sums of each row, padded by replicating the edge pixels
  for (let y = 0; y < h; y++) {
    const row = new Float64Array((pw + 1) * 3);
    for (let k = 0; k < pw; k++) {
      const x = Math.min(w - 1, Math.max(0, k - R - 1));
      const i = (y * w + x) * 3;
      row[(k + 1) * 3] = row[k * 3]! + src[i]!;
      row[(k + 1) * 3 + 1] = row[k * 3 + 1]! + src[i + 1]!;
      row[(k + 1) * 3 + 2] = row[k * 3 + 2]! + src[i + 2]!;
    }
    rows.push(row);
  }
  const inv = 1 / area;
  const halfs = Int32Array.from(half);
  const edges = Float64Array.from(edge);
  for (let y = 0; y < h; y++) discRow(rows, out, w, h, y, R, halfs, edges, inv);
  return out;
}

/** One output row of discBlur(): a function of its own, optimised once (not a loop re-optimised every frame). */
function discRow(rows: Float64Array[], out: Float32Array, w: number, h: number, y: number, R: number, half: Int32Array, edge: Float64Array, inv: number): void {
  {
    for (let x = 0; x < w; x++) {
      let r0 = 0, g0 = 0, b0 = 0;
      for (let j = 0; j < half.length; j++) {
        const hw = half[j]!;
        if (hw < 0) continue;
        const row = rows[Math.min(h - 1, Math.max(0, y + j - R))]!;
        // padded index of column c is c + R + 1; the sum over [x-hw, x+hw] is P[x+hw+R+2] − P[x−hw+R+1]
        const a = (x - hw + R + 1) * 3;
        const b = (x + hw + R + 2) * 3;
        r0 += row[b]! - row[a]!;
        g0 += row[b + 1]! - row[a + 1]!;
        b0 += row[b + 2]! - row[a + 2]!;
        const f = edge[j]!;
        if (f > 0) {
          // the two partly covered pixels at the row's ends
          const l = (x - hw - 1 + R + 1) * 3;
          const rr = (x + hw + 1 + R + 1) * 3;
          r0 += f * (row[l + 3]! - row[l]! + row[rr + 3]! - row[rr]!);
          g0 += f * (row[l + 4]! - row[l + 1]! + row[rr + 4]! - row[rr + 1]!);
          b0 += f * (row[l + 5]! - row[l + 2]! + row[rr + 5]! - row[rr + 2]!);
        }
      }
      const o = (y * w + x) * 3;
      out[o] = r0 * inv; out[o + 1] = g0 * inv; out[o + 2] = b0 * inv;
    }
  }
}

/** Exposure (the view's log-average to a set level), the preset's tint and saturation, a cap on sources. */
function grade(v: Float32Array, n: number, env: PreparedEnvironment, photo: EnvironmentPhoto): void {
  let logSum = 0;
  for (let i = 0; i < n; i++) {
    const l = 0.2126 * v[i * 3]! + 0.7152 * v[i * 3 + 1]! + 0.0722 * v[i * 3 + 2]!;
    logSum += Math.log(l + env.mean * 0.01 + 1e-6);
  }
  const key = Math.exp(logSum / n);
  const k = (0.15 * 2 ** photo.exposure) / Math.max(1e-6, key);
  const t = hexToLinear(photo.tint);
  const tl = 0.2126 * t[0] + 0.7152 * t[1] + 0.0722 * t[2];
  const mix = (c: number) => 1 + ((c / Math.max(1e-6, tl)) - 1) * photo.tintAmount;
  const tr = mix(t[0]) * k, tg = mix(t[1]) * k, tb = mix(t[2]) * k;
  const sat = photo.saturation;
  // a source brighter than this spreads as a white disc; past it, more only floods the frame
  const cap = 24;
  for (let i = 0; i < n; i++) {
    let r = v[i * 3]! * tr, g = v[i * 3 + 1]! * tg, b = v[i * 3 + 2]! * tb;
    const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    r = l + (r - l) * sat; g = l + (g - l) * sat; b = l + (b - l) * sat;
    const m = Math.max(r, g, b);
    const c = m > cap ? cap / m : 1;
    v[i * 3] = Math.max(0, r * c); v[i * 3 + 1] = Math.max(0, g * c); v[i * 3 + 2] = Math.max(0, b * c);
  }
}

/** Bilinear upsampling of linear RGB (pixel centres aligned): smooth at any factor after a blur. */
export function upsample(src: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  if (w === W && h === H) return src;
  const out = new Float32Array(W * H * 3);
  const x0s = new Int32Array(W), x1s = new Int32Array(W), fxs = new Float32Array(W);
  for (let x = 0; x < W; x++) {
    const u = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / W - 0.5));
    x0s[x] = Math.floor(u); x1s[x] = Math.min(w - 1, x0s[x]! + 1); fxs[x] = u - x0s[x]!;
  }
  for (let y = 0; y < H; y++) {
    const v = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / H - 0.5));
    const y0 = Math.floor(v);
    upsampleRow(src, out, w, W, y, y0, Math.min(h - 1, y0 + 1), v - y0, x0s, x1s, fxs);
  }
  return out;
}

/** One output row of upsample(): a function of its own, optimised once (not a loop re-optimised every frame). */
function upsampleRow(src: Float32Array, out: Float32Array, w: number, W: number, y: number, y0: number, y1: number, fy: number, x0s: Int32Array, x1s: Int32Array, fxs: Float32Array): void {
  {
    for (let x = 0; x < W; x++) {
      const a = (y0 * w + x0s[x]!) * 3, b = (y0 * w + x1s[x]!) * 3, c = (y1 * w + x0s[x]!) * 3, d = (y1 * w + x1s[x]!) * 3;
      const fx = fxs[x]!;
      const o = (y * W + x) * 3;
      // the three channels written out: a loop per pixel costs more than the blend
      const t0 = src[a]! + (src[b]! - src[a]!) * fx;
      const t1 = src[a + 1]! + (src[b + 1]! - src[a + 1]!) * fx;
      const t2 = src[a + 2]! + (src[b + 2]! - src[a + 2]!) * fx;
      out[o] = t0 + (src[c]! + (src[d]! - src[c]!) * fx - t0) * fy;
      out[o + 1] = t1 + (src[c + 1]! + (src[d + 1]! - src[c + 1]!) * fx - t1) * fy;
      out[o + 2] = t2 + (src[c + 2]! + (src[d + 2]! - src[c + 2]!) * fx - t2) * fy;
    }
  }
}
