import type { ScenePlan } from '../../contract/scene.js';
import { blur, composite, resize, type Layer } from '../codec.js';
import { crop, flipRows } from '../raster/crop.js';
import { rgb8, rgba8, type Field32, type Rgb8, type Rgba8 } from '../raster/types.js';
import type { Layout, ShadowMasks } from '../types.js';
import { renderBackdrop } from './backdrop.js';
import { prepareEnvironment, type EnvironmentLook } from './environment.js';
import { irradiance } from '../raster/sh.js';
import { kelvinToLinear, softenLight, SRGB_STEPS, srgbTable, srgbToLinearLut } from '../raster/color.js';
import { smoothstep } from '../raster/noise.js';
import { createSurfaceRowShader } from './surface.js';
import { createRelief, roughnessOf } from './normals.js';
import { createReflector, fresnel } from './reflection.js';
import { MATERIAL_DETAIL } from '../../plan/presets.js';

/**
 * The set, at the working size: backdrop, the surface in perspective (texture foreshortened and
 * faded with distance), the key light's falloff and pattern, shadows, reflections, colour grading
 * and depth of field. Returns 8-bit sRGB RGB; the product is composited later at full size.
 */

export interface SceneInput {
  plan: ScenePlan;
  layout: Layout;
  seed: number;
  /** the product at the working size (RGBA), its box in working pixels */
  product: { rgba: Buffer; x: number; y: number; w: number; h: number };
  shadows: ShadowMasks;
  /** the key light's pattern over the working frame */
  pattern: Field32 | null;
  /** RGBA layer blended (screen) behind the product: bokeh, rays, mist */
  behind: Buffer | null;
  /** a photographic environment behind the set (scene/environment.ts), and how finely to blur it */
  photo?: { look: EnvironmentLook; quality: 'fast' | 'full' } | null;
}

export async function renderScene(input: SceneInput): Promise<Rgb8> {
  const { plan, layout } = input;
  const W = layout.work.width;
  const H = layout.work.height;
  const ws = layout.work.scale;
  const cam = layout.camera;
  const baseY = layout.baseY * ws;
  const vanishY = cam.vanishY * ws;
  const edgeY = cam.topDown ? -1 : cam.edgeY * ws;
  const centerX = layout.centerX * ws;
  const ph = layout.product.height * ws;

  // independent: the reflection's blur runs in libvips while the backdrop is drawn
  const [backdrop, reflection] = await Promise.all([
    renderBackdrop({
      plan, width: W, height: H, seed: input.seed, centerX, centerY: baseY - ph / 2, productHeight: ph,
      // the photograph's horizon on the set's vanishing line, so the table and the room share one eye level
      photo: input.photo && !cam.topDown ? { look: input.photo.look, horizonY: vanishY, quality: input.photo.quality } : null,
    }),
    plan.reflection.enabled && !cam.topDown ? productReflection(input, W, H, baseY) : null,
  ]);

  const shadeRow = createSurfaceRowShader(plan.surface, input.seed);
  const light = plan.light;
  let keyColour = softenLight(kelvinToLinear(light.temperature), 0.55);
  let ambColour = softenLight(kelvinToLinear(light.temperature > 5000 ? 7500 : 5200), 0.35);
  const el = (light.elevation * Math.PI) / 180;
  const az = (light.azimuth * Math.PI) / 180;
  // how the fill changes as the surface's relief tilts across (gA) and into depth (gD), per unit of
  // tilt, relative to a flat surface: a studio's fill leans a little toward the key's side
  let gA = 0.2 * Math.sin(az) * Math.cos(el);
  let gD = -0.2 * Math.cos(az) * Math.cos(el);
  if (input.photo) {
    // in a photographed place the surface takes that place's light: the key joins the dominant
    // light's colour, the shadows fill with the colour of the light from above (sky, ceiling)
    const env = await prepareEnvironment(input.photo.look.hdri);
    const d = env.light.colour;
    keyColour = softenLight([(keyColour[0] + d[0]) / 2, (keyColour[1] + d[1]) / 2, (keyColour[2] + d[2]) / 2], 0.6);
    const up = [0, 0, 0];
    irradiance(env.sh, 0, 1, 0, up);
    const ul = Math.max(1e-6, 0.2126 * up[0]! + 0.7152 * up[1]! + 0.0722 * up[2]!);
    ambColour = softenLight([up[0]! / ul, up[1]! / ul, up[2]! / ul], 0.35);
    // in a photographed place the fill is the place's own: its harmonics' change toward the camera's
    // right and toward the room (the camera turned by the look's yaw)
    const yaw = (input.photo.look.yaw * Math.PI) / 180;
    const t = 0.25;
    const lumAt = (x: number, z: number) => {
      const len = Math.hypot(x, 1, z);
      const e = [0, 0, 0];
      irradiance(env.sh, x / len, 1 / len, z / len, e);
      return 0.2126 * e[0]! + 0.7152 * e[1]! + 0.0722 * e[2]!;
    };
    const [cy, sy] = [Math.cos(yaw), Math.sin(yaw)];
    gA = (lumAt(cy * t, sy * t) - lumAt(-cy * t, -sy * t)) / (2 * t * ul);
    gD = (lumAt(sy * t, -cy * t) - lumAt(-sy * t, cy * t)) / (2 * t * ul);
  }
  const amb = 0.52 - 0.34 * light.contrast;
  // the key's distance in product heights: a top light hangs close over the set and leaves a pool
  // of light around the product that falls off into the dark
  const D = (3.4 + (1 - light.contrast) * 6) * (light.elevation >= 70 ? 0.5 : 1);
  const zb = cam.baseDepth;
  const P = [Math.sin(az) * Math.cos(el) * D, Math.sin(el) * D, zb - Math.cos(az) * Math.cos(el) * D] as const;
  const e0 = P[1] / D ** 3;
  // the light's position and strength as plain numbers: read for every surface pixel
  const [Px, Py, Pz] = P;
  const intensity = light.intensity;
  const [keyR, keyG, keyB] = keyColour;
  const [ambR, ambG, ambB] = ambColour;
  const sweep = plan.backdrop.kind === 'sweep';
  // a table edge against a defocused photograph: a soft line, as the edge itself is a little out of focus
  const band = sweep ? H * 0.14 : input.photo ? Math.max(1.5, H * 0.008) : Math.max(1.5, H * 0.002);
  // A floor in a photographed place ("on a concrete floor in a warehouse") has no far edge: it runs
  // on toward the horizon and, past the depth where a table would end, fades into the photograph's
  // own floor (reprojected on the same horizon), so the set and the room share one ground plane.
  const floor = input.photo != null && !cam.topDown && isFloor(plan);
  const edgeDepth = (baseY - vanishY) / Math.max(1, edgeY - vanishY);
  const surfaceTop = cam.topDown ? 0 : floor ? Math.max(0, Math.floor(vanishY + 1)) : Math.max(0, Math.floor(edgeY - band));
  const castOpacity = plan.shadow.opacity;
  const { cast, contact, occlusion } = input.shadows;
  const pattern = input.pattern ? input.pattern.data : null;
  const noSurface = plan.surface.material === 'none';
  // the surface's relief (micro-normals) and what its gloss mirrors; a surface this rough mirrors
  // nothing a viewer could see (its reflectance spreads into the room's average, a per cent or two)
  const relief = noSurface ? null : await createRelief(plan.surface);
  const roughness = roughnessOf(plan.surface);
  const f0 = MATERIAL_DETAIL[plan.surface.material].f0;
  const reflector = noSurface || cam.topDown || roughness >= 0.75 ? null : await createReflector({
    width: W, height: H, vanishY, edgeY, focal: cam.focal * ws, roughness, backdrop,
    photo: input.photo ? { look: input.photo.look, blur: plan.backdrop.blur + 0.35 * plan.effects.bokeh } : null,
  });

  // The surface is written over the backdrop in place (one frame-sized array fewer per render):
  // each pixel reads its own backdrop value before writing it, and the reflector keeps its own copy.
  const scene = backdrop;
  // one row at a time: the surface's points, their albedo, relief and what they mirror (row calls:
  // no call per pixel, whose arguments and result were boxed numbers, megabytes of garbage a frame)
  const Xs = new Float64Array(W);
  const albedo = new Float32Array(W * 3);
  const tiltX = new Float32Array(W);
  const tiltZ = new Float32Array(W);
  const mirrored = new Float32Array(W * 3);
  const cosView = new Float64Array(W);
  const upp0 = 1 / (layout.product.height * ws);
  const pass: SurfacePass = {
    W, Xs, albedo, tiltX, tiltZ, mirrored, cosView, Px, Py, Pz, e0, amb, gA, gD, intensity,
    key: [keyR, keyG, keyB], ambient: [ambR, ambG, ambB], relief: relief !== null, reflector: reflector !== null, f0, roughness,
    pattern, cast, castOpacity, contact, occlusion, reflection, noSurface, scene,
  };
  for (let y = surfaceTop; y < H; y++) {
    let upp: number;
    let fp: number;
    let Z: number;
    if (cam.topDown) {
      upp = upp0; fp = upp; Z = zb - (y - baseY) * upp;
    } else {
      const dy = Math.max(0.5, y - vanishY);
      const depth = (baseY - vanishY) / dy;
      upp = (depth * zb) / (cam.focal * ws);
      const dZ = (zb * (baseY - vanishY)) / (dy * dy);
      fp = Math.sqrt(upp * dZ);
      Z = depth * zb;
    }
    // how much this row belongs to the surface rather than the backdrop
    const cover = cam.topDown ? 1
      : floor ? 1 - smoothstep(edgeDepth, edgeDepth * 4, (baseY - vanishY) / Math.max(0.5, y - vanishY))
      : sweep ? smoothstep(edgeY - band, edgeY + band * 0.3, y) : smoothstep(edgeY - band, edgeY + band, y);
    if (cover <= 0) continue;
    for (let x = 0; x < W; x++) Xs[x] = (x - centerX) * upp;
    // depth measured from the product's base, so patterns are laid out around where it stands
    shadeRow(Xs, W, Z - zb, fp, albedo);
    if (relief) {
      relief.row(fp);
      relief.rowAt(Xs, W, Z - zb, tiltX, tiltZ);
    }
    if (reflector) {
      reflector.row(y);
      reflector.rowAt(W, relief ? tiltX : null, relief ? tiltZ : null, mirrored, cosView);
    }
    surfaceRow(pass, y, Z, cover);
  }
  if (pattern && plan.backdrop.kind !== 'environment') {
    // the pattern also falls on the backdrop, more faintly (it is farther from the gobo's focus)
    for (let y = 0; y < Math.min(H, Math.ceil(edgeY + band)); y++) {
      patternRow(scene, pattern, y * W, W, sweep ? 1 - smoothstep(edgeY - band, edgeY + band * 0.3, y) : 1 - smoothstep(edgeY - band, edgeY + band, y));
    }
  }

  // a floor's far rows are ground, not backdrop: their blur follows their depth
  const dofLayout = floor ? { ...layout, camera: { ...cam, edgeY: cam.vanishY + 1 / ws } } : layout;
  const focused = await depthOfField(rgb8(grade(scene, W, H, plan), W, H), plan, dofLayout);
  if (!input.behind) return focused;
  const layers: Layer[] = [{ image: rgba8(input.behind, W, H), blend: 'screen' }];
  const streaks = plan.surface.gloss >= 0.45 && !cam.topDown ? await mirroredLights(rgba8(input.behind, W, H), edgeY, plan.surface.gloss) : null;
  if (streaks) layers.push({ image: rgba8(streaks.data, W, streaks.h), left: 0, top: streaks.top, blend: 'screen' });
  return composite(focused, layers);
}

/** The prompt calls the surface a floor or the ground (the planner keeps the words it used). */
function isFloor(plan: ScenePlan): boolean {
  return plan.words.understood.some((w) => w.fields.includes('surface') && /^(?:floor|ground)$/i.test(w.text));
}

/**
 * A glossy or wet surface mirrors the lights behind the set (bokeh, rays) as soft vertical streaks:
 * the layer above the surface's edge, flipped, stretched downward and smeared along the depth
 * direction, fading toward the camera.
 */
export async function mirroredLights(behind: Rgba8, edgeY: number, gloss: number): Promise<{ data: Buffer; top: number; h: number } | null> {
  const { width: W, height: H } = behind;
  const top = Math.max(0, Math.ceil(edgeY));
  const h = H - top;
  const srcH = Math.min(top, Math.round(h * 0.7));
  if (h < 8 || srcH < 4) return null;
  const flipped = flipRows(crop(behind, { x: 0, y: top - srcH, width: W, height: srcH }));
  // stretched straight to the streaks' height: the smear is the cubic stretch itself
  const { data } = await resize(flipped, W, h, { kernel: 'cubic' });
  const k = Math.min(1, gloss * 1.4);
  for (let y = 0; y < h; y++) {
    const fade = k * (1 - y / h) ** 1.5;
    for (let i = (y * W) * 4 + 3, end = ((y + 1) * W) * 4; i < end; i += 4) data[i] = Math.round(data[i]! * fade);
  }
  return { data, top, h };
}

/** The product mirrored about its base, faded with height and softened by the surface's roughness. */
async function productReflection(input: SceneInput, W: number, H: number, baseY: number): Promise<{ data: Buffer; weight: Float32Array; lut: Float32Array }> {
  const { product: pr, plan } = input;
  const data = Buffer.alloc(W * H * 4);
  const by = Math.round(baseY);
  for (let y = by; y < Math.min(H, by + pr.h); y++) {
    const sy = by - (y - by) - 1 - pr.y;
    if (sy < 0 || sy >= pr.h) continue;
    for (let x = Math.max(0, pr.x); x < Math.min(W, pr.x + pr.w); x++) {
      const s = (sy * pr.w + (x - pr.x)) * 4;
      const d = (y * W + x) * 4;
      data[d] = pr.rgba[s]!; data[d + 1] = pr.rgba[s + 1]!; data[d + 2] = pr.rgba[s + 2]!; data[d + 3] = pr.rgba[s + 3]!;
    }
  }
  const sigma = Math.max(0.5, (1 - plan.surface.gloss) * pr.h * 0.03);
  const { data: blurred } = await blur(rgba8(data, W, H), sigma);
  const weight = new Float32Array(H);
  const reach = pr.h * (0.25 + plan.surface.gloss * 0.45);
  for (let y = by; y < H; y++) weight[y] = plan.reflection.strength * Math.max(0, 1 - (y - by) / reach) ** 1.6;
  return { data: blurred, weight, lut: srgbToLinearLut() };
}

const TONE_STEPS = 16384;
/** the brightest linear luminance the tone table covers; brighter pixels take its last gain */
const TONE_MAX = 4;

/** Exposure, warmth, saturation, contrast and vignette, then linear → 8-bit sRGB. */
export function grade(scene: Float32Array, W: number, H: number, plan: ScenePlan): Buffer {
  const g = plan.grade;
  const enc = srgbTable();
  const expo = 2 ** (g.exposure * 1.2);
  const wr = 1 + g.warmth * 0.09;
  const wb = 1 - g.warmth * 0.12;
  const sat = g.saturation;
  const contrast = 0.9 + plan.light.contrast * 0.25;
  const pivot = 0.18;
  // Contrast around middle grey in a log-like space (shadows keep detail) and a gentle shoulder so
  // highlights roll off instead of clipping, applied to luminance: every channel of a pixel is
  // scaled alike, so a pastel keeps its hue in the light and in the shade (a per-channel curve
  // clips the strongest channel first and makes shadows look more saturated than the lit colour).
  // One table of gains instead of a pow per pixel; fine enough that the darkest step's error stays
  // within a byte of sRGB.
  const gains = new Float32Array(TONE_STEPS + 1);
  for (let i = 1; i <= TONE_STEPS; i++) {
    const l = (i / TONE_STEPS) * TONE_MAX;
    let v = pivot * (l / pivot) ** contrast;
    v = Math.min(0.995, v / (1 + Math.max(0, v - 0.8) * 0.8));
    gains[i] = v / l;
  }
  gains[0] = gains[1]!;
  const toneIndex = TONE_STEPS / TONE_MAX;
  const out = Buffer.alloc(W * H * 3);
  const cx = W / 2;
  const cy = H / 2;
  const rad2 = cx * cx + cy * cy;
  // vignette as a table over the squared radius: no square root or smoothstep per pixel
  const vig = new Float32Array(VSTEPS + 1);
  for (let i = 0; i <= VSTEPS; i++) vig[i] = 1 - g.vignette * 0.75 * smoothstep(0.35, 1.05, Math.sqrt(i / VSTEPS));
  const pass: GradePass = { scene, out, W, cx, rad2, vig, expo, wr, wb, sat, gains, toneIndex, enc };
  for (let y = 0; y < H; y++) gradeRow(pass, y, (y - cy) * (y - cy));
  return out;
}

const VSTEPS = 1024;

interface GradePass {
  scene: Float32Array; out: Buffer; W: number; cx: number; rad2: number; vig: Float32Array;
  expo: number; wr: number; wb: number; sat: number; gains: Float32Array; toneIndex: number; enc: Uint8Array;
}

/** One row of grade(): a function of its own, optimised once (a loop in a once-a-frame function is re-optimised every frame). */
function gradeRow(c: GradePass, y: number, dy2: number): void {
  const { scene, out, W, cx, rad2, vig, expo, wr, wb, sat, gains, toneIndex, enc } = c;
  {
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 3;
      const v = vig[Math.min(VSTEPS, (((x - cx) * (x - cx) + dy2) / rad2 * VSTEPS) | 0)]!;
      let r = scene[p]! * expo * wr * v;
      let gg = scene[p + 1]! * expo * v;
      let b = scene[p + 2]! * expo * wb * v;
      const l = 0.2126 * r + 0.7152 * gg + 0.0722 * b;
      const k = gains[Math.min(TONE_STEPS, (l * toneIndex + 0.5) | 0)]!;
      const lt = l * k;
      r = lt + (r - l) * sat * k; gg = lt + (gg - l) * sat * k; b = lt + (b - l) * sat * k;
      // a channel still above white: move toward the pixel's own grey rather than clip that channel
      const m = r > gg ? (r > b ? r : b) : gg > b ? gg : b;
      if (m > 1) {
        const d = (1 - lt) / (m - lt);
        r = lt + (r - lt) * d; gg = lt + (gg - lt) * d; b = lt + (b - lt) * d;
      }
      // the table lookup written out: a call per channel costs more than the grading itself
      out[p] = enc[r <= 0 ? 0 : r >= 1 ? SRGB_STEPS : (r * SRGB_STEPS + 0.5) | 0]!;
      out[p + 1] = enc[gg <= 0 ? 0 : gg >= 1 ? SRGB_STEPS : (gg * SRGB_STEPS + 0.5) | 0]!;
      out[p + 2] = enc[b <= 0 ? 0 : b >= 1 ? SRGB_STEPS : (b * SRGB_STEPS + 0.5) | 0]!;
    }
  }
}

/**
 * Depth of field: two blurred copies, and each row takes the blur its distance from the focal plane
 * (the product's base) calls for. Backdrop rows take the most.
 */
async function depthOfField(image: Rgb8, plan: ScenePlan, layout: Layout): Promise<Rgb8> {
  const { data: img, width: W, height: H } = image;
  const cam = layout.camera;
  const long = Math.max(W, H);
  const A = long * 0.014 * (0.3 + plan.backdrop.blur * 0.9);
  if (A < 0.8 || cam.topDown) return image;
  const ws = layout.work.scale;
  const baseY = layout.baseY * ws;
  const vanishY = cam.vanishY * ws;
  const edgeY = cam.edgeY * ws;
  const env = plan.backdrop.kind === 'environment';
  const s1 = A * 0.3;
  // the two blurs are independent: libvips runs them side by side
  const [{ data: l1 }, { data: l2 }] = await Promise.all([blur(image, Math.max(0.4, s1)), blur(image, Math.max(0.4, A / 4))]);
  // each pixel reads only its own value before writing it: blend in place
  const out = img;
  const edgeS = Math.min(1, Math.max(0, 1 - (edgeY - vanishY) / (baseY - vanishY)));
  for (let y = 0; y < H; y++) {
    let s: number;
    if (y <= edgeY) s = env ? edgeS * 0.5 : 1;
    else {
      const depth = (baseY - vanishY) / Math.max(0.5, y - vanishY);
      s = Math.min(1, Math.abs(1 - 1 / depth) * 1.2);
    }
    const row = y * W * 3;
    if (s < 0.3) mixRow(out, img, l1, row, row + W * 3, s / 0.3);
    else mixRow(out, l1, l2, row, row + W * 3, (s - 0.3) / 0.7);
  }
  return image;
}

/** What every surface pixel of a render reads: the light, the shadows, the reflections, the row's shading. */
interface SurfacePass {
  W: number;
  /** the row's points across, albedos, relief tilts, mirrored radiance and view cosines (the row calls' output) */
  Xs: Float64Array;
  albedo: Float32Array;
  tiltX: Float32Array;
  tiltZ: Float32Array;
  mirrored: Float32Array;
  cosView: Float64Array;
  Px: number; Py: number; Pz: number; e0: number;
  amb: number; gA: number; gD: number; intensity: number;
  key: [number, number, number];
  ambient: [number, number, number];
  relief: boolean;
  reflector: boolean;
  f0: number;
  roughness: number;
  pattern: Float32Array | null;
  cast: Float32Array | null;
  castOpacity: number;
  contact: Float32Array | null;
  occlusion: Float32Array | null;
  reflection: { data: Buffer; weight: Float32Array; lut: Float32Array } | null;
  noSurface: boolean;
  /** the backdrop, drawn over in place */
  scene: Float32Array;
}

/**
 * One row of the surface over the backdrop (the scene array, in place), `cover` its share of the
 * surface. A function of its own, called per row: V8 optimises it once and keeps it, where a loop
 * inside the (async, once a frame) renderScene ran unoptimised until on-stack replacement, every frame.
 */
function surfaceRow(c: SurfacePass, y: number, Z: number, cover: number): void {
  const { W, Xs, albedo, tiltX, tiltZ, mirrored, cosView, Px, Py, Pz, e0, amb, gA, gD, intensity, f0, roughness, pattern, cast, castOpacity, contact, occlusion, reflection, noSurface } = c;
  const hasRelief = c.relief;
  const hasReflector = c.reflector;
  const [keyR, keyG, keyB] = c.key;
  const [ambR, ambG, ambB] = c.ambient;
  const Py2 = Py * Py;
  const scene = c.scene;
  const backdrop = scene;
  for (let x = 0; x < W; x++) {
    const X = Xs[x]!;
    const p = y * W + x;
    // key light falloff on the surface (inverse square and incidence), relative to the base
    const vx = Px - X;
    const vz = Pz - Z;
    const d2 = vx * vx + Py2 + vz * vz;
    let e = Math.min(2.4, (Py / (d2 * Math.sqrt(d2))) / e0);
    let fill = amb;
    if (hasRelief) {
      // the relief's normal (tx, 1, tz): the key by its incidence against a flat surface's, the
      // fill by how much of the sky the tilted facet sees and which side it leans to
      const tx = tiltX[x]!;
      const tz = tiltZ[x]!;
      const inl = 1 / Math.sqrt(tx * tx + 1 + tz * tz);
      e *= Math.max(0, (tx * vx + tz * vz) / Py + 1) * inl;
      fill = amb * Math.max(0, (1 + inl) / 2 + (gA * tx + gD * tz) * inl);
    }
    if (pattern) e *= pattern[p]!;
    let lum: number;
    if (cast) {
      // the shadow blocks the key and, near the product, some of the fill as well
      const c = cast[p]!;
      e *= 1 - Math.min(1, c * castOpacity * 1.3);
      lum = (fill + (1 - amb) * intensity * e) * (1 - c * castOpacity * 0.3);
    } else lum = fill + (1 - amb) * intensity * e;
    let ambPart = fill;
    if (contact) {
      const c = contact[p]!;
      const o = occlusion![p]!;
      const k = (1 - c * 0.75) * (1 - o * 0.5);
      lum *= k;
      ambPart *= k;
    }
    const keyPart = lum - ambPart;
    const i = p * 3;
    const x3 = x * 3;
    let r = albedo[x3]! * (ambPart * ambR + keyPart * keyR);
    let g = albedo[x3 + 1]! * (ambPart * ambG + keyPart * keyG);
    let b = albedo[x3 + 2]! * (ambPart * ambB + keyPart * keyB);
    if (hasReflector) {
      // the light the surface mirrors, at Fresnel's share: what it mirrors is not lit by the key
      const F = fresnel(cosView[x]!, f0, roughness);
      r = r * (1 - F) + mirrored[x3]! * F;
      g = g * (1 - F) + mirrored[x3 + 1]! * F;
      b = b * (1 - F) + mirrored[x3 + 2]! * F;
    }
    if (reflection) {
      const q = p * 4;
      const a = (reflection.data[q + 3]! / 255) * reflection.weight[y]!;
      if (a > 0) {
        const lut = reflection.lut;
        r = r * (1 - a) + lut[reflection.data[q]!]! * a;
        g = g * (1 - a) + lut[reflection.data[q + 1]!]! * a;
        b = b * (1 - a) + lut[reflection.data[q + 2]!]! * a;
      }
    }
    if (noSurface) {
      // floating: no surface, only the shadow falls on the backdrop below
      const s = lum / (amb + (1 - amb) * intensity);
      r = backdrop[i]! * s; g = backdrop[i + 1]! * s; b = backdrop[i + 2]! * s;
    }
    scene[i] = backdrop[i]! + (r - backdrop[i]!) * cover;
    scene[i + 1] = backdrop[i + 1]! + (g - backdrop[i + 1]!) * cover;
    scene[i + 2] = backdrop[i + 2]! + (b - backdrop[i + 2]!) * cover;
  }
}

/** out[i] = a[i] + (b[i] − a[i]) · t over [from, to), rounded to bytes as a Buffer store rounds. */
function mixRow(out: Buffer, a: Buffer, b: Buffer, from: number, to: number, t: number): void {
  for (let i = from; i < to; i++) out[i] = a[i]! + (b[i]! - a[i]!) * t;
}

/** The key's pattern on a row of the backdrop (pixels p0…p0+W), at `cover` of its strength. */
function patternRow(scene: Float32Array, pattern: Float32Array, p0: number, W: number, cover: number): void {
  for (let p = p0; p < p0 + W; p++) {
    const k = 0.55 + 0.45 * pattern[p]!;
    const m = 1 + (k - 1) * cover;
    scene[p * 3] = scene[p * 3]! * m; scene[p * 3 + 1] = scene[p * 3 + 1]! * m; scene[p * 3 + 2] = scene[p * 3 + 2]! * m;
  }
}
