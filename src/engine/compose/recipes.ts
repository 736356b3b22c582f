import type { ScenePlan } from '../../contract/scene.js';
import { PermanentTaskError } from '../../errors.js';
import { coverRgb, decodeImage, encodeImage, resize } from '../codec.js';
import { fidelityFigures, type FidelityFigures } from '../fidelity.js';
import { renderPattern } from '../light/pattern.js';
import { applySimilarity, LockError, lockProduct, type LockMode, type Similarity } from '../lock/index.js';
import { relightProduct } from '../light/relight.js';
import { computeShadows } from '../light/shadows.js';
import { cropClamped } from '../raster/crop.js';
import { rgb8, rgba8, type Box, type Field32, type Raster8, type Rgb8, type Rgba8 } from '../raster/types.js';
import type { SceneReading } from '../refs/analyze.js';
import type { Group } from '../refs/group.js';
import { placeEffects, renderEffects } from '../scene/effects.js';
import { environmentLook, prepareEnvironment, type EnvironmentLook } from '../scene/environment.js';
import { renderScene } from '../scene/render.js';
import type { Layout, LockFigures, Placement, RenderReport, ShadowMasks, TransformRequest, UpstreamReport } from '../types.js';
import { computeLayout, SCENE_SCALE, type RenderQuality } from './framing.js';
import { composeFrame, composeTransparent } from './index.js';
import { composeIntoPhoto } from './photo.js';

/**
 * Recipes: how a planned shot becomes a frame. Each is a short list of named stages over the shared
 * ones (framing, light, scene, compositing, fidelity):
 *
 *   studio        layout → light → scene → compose → fidelity
 *   scene photo   compose (into the photo, with its light and shadows) → fidelity
 *   transparent   layout → compose → fidelity
 *
 * pipeline.ts decodes, cuts out and plans before, and encodes after. A generative engine is another
 * recipe here (layout → upstream → product lock).
 */

/**
 * Paints a scene around a layout: a generative upstream (src/providers), handed to the engine by
 * whoever runs it, so the engine itself never speaks HTTP.
 */
export type PaintFn = (req: {
  engine: string;
  model: string;
  prompt: string;
  /** the layout as PNG: the product framed on a flat grey */
  layout: Buffer;
  /** PNG of the layout's size, opaque where the product is (keep) */
  mask: Buffer;
  aspectRatio: string;
  resolution: string;
  jobKey: string;
  /** an upstream task an earlier run of this job created: polled instead of creating one */
  upstreamTaskId?: string;
  /** told the upstream's task id as soon as the upstream created it (the worker stores it on the task) */
  onCreated?: (taskId: string) => void;
  signal?: AbortSignal;
}) => Promise<{
  image: Buffer; taskId: string; createAttempts: number; replayed: boolean;
  /** the model the upstream was asked for (hiapi: after RESHOOT_HIAPI_UPSTREAM_MODELS) */ model?: string;
  /** hiapi asked for its callback: `received` when the callback led to the answer, `asked` when a safety poll found it */ callback?: 'asked' | 'received';
}>;

/** A generative upstream could not paint the frame (the fallback engine may render instead); keeps the upstream's task error code. */
export class UpstreamError extends PermanentTaskError {
  constructor(readonly engine: string, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), cause instanceof PermanentTaskError ? cause.code : 'TASK_FAILED', { cause });
  }
}

/** Runs one named stage and records its time under that name (see pipeline.ts). */
export type StageRunner = <T>(name: string, run: () => Promise<T> | T) => Promise<T>;

/** What every recipe starts from. */
export interface Shot {
  req: TransformRequest;
  plan: ScenePlan;
  /** the product, or several side by side, cut out */
  group: Group;
  /** the first product reference's size (the framing's source scale) */
  firstProduct: { width: number; height: number };
  /** the scene photo, cover-fitted to the output size, and what was read from it */
  photo?: { image: Rgb8; reading: SceneReading };
  /** generative renders: the upstream, the largest image taken back from it, the task's signal */
  paint?: { fn: PaintFn; maxPixels: number; signal?: AbortSignal };
}

export interface Rendered {
  frame: Raster8;
  placement: Placement;
  /** how the frame was rendered (the report's `render`) */
  render?: RenderReport;
  /** product colour kept (the headline), relight, and ΔE2000 with and without the light (fidelity.ts) */
  fidelity: FidelityFigures;
  /** generative: the product lock's figures and the upstream that painted */
  lock?: LockFigures;
  /** the plan as the studio drew it, where it differs from the shot's (steam and smoke placed for the product) */
  plan?: ScenePlan;
  upstream?: UpstreamReport;
}

export type Recipe = (shot: Shot, stage: StageRunner) => Promise<Rendered>;

export type RecipeName = 'studio' | 'scene photo' | 'transparent' | 'generative';

/** Pro renders at the highest quality the engine has; the free model stays fast. */
export function qualityOf(req: Pick<TransformRequest, 'tier'>): RenderQuality {
  return req.tier === 'pro' ? 'full' : 'fast';
}

/** What the studio did for this frame, in the report: the scene's scale, the lens blur, the photograph. */
function renderReport(req: TransformRequest, layout: Layout, look: EnvironmentLook | null): RenderReport {
  const quality = qualityOf(req);
  const free = computeScale(layout, 'fast');
  return {
    quality: quality === 'full' ? 'pro' : 'standard',
    sceneScale: Math.round(layout.work.scale * 1000) / 1000,
    supersampled: layout.work.scale > 1,
    sceneVsFree: Math.round((layout.work.scale / free) * 100) / 100,
    lensBlur: look ? (quality === 'full' ? 'full-size HDR disc' : 'reduced-size HDR disc, upsampled') : 'none',
    ...(look ? { environment: { photo: look.hdri, yaw: Math.round(look.yaw * 10) / 10 } } : {}),
    description: quality === 'full'
      ? `Pro: the set rendered at ${layout.work.scale.toFixed(2)}× the output size (${(layout.work.scale / free).toFixed(1)}× the free model's scale${layout.work.scale > 1 ? ', supersampled' : ''})${look ? ', the environment lens-blurred at full size in HDR' : ''}`
      : `the set rendered at ${layout.work.scale.toFixed(2)}× the output size${look ? ', the environment lens-blurred at a reduced size in HDR' : ''}`,
  };
}

const computeScale = (l: Layout, q: RenderQuality) => Math.min(SCENE_SCALE[q].share, SCENE_SCALE[q].longSide / Math.max(l.width, l.height));

/**
 * A scene photo among the references is the set; otherwise transparency when asked; otherwise a
 * generative upstream when the task's route names one; otherwise the studio.
 */
export function recipeFor(shot: Shot): RecipeName {
  if (shot.photo) return 'scene photo';
  if (shot.req.generative && shot.req.background !== 'transparent') return 'generative';
  return shot.req.background === 'transparent' ? 'transparent' : 'studio';
}

function placementOf(l: Layout): Placement {
  return {
    x: l.product.x, y: l.product.y, width: l.product.width, height: l.product.height,
    scale: Math.round(l.scale * 10000) / 10000, upscale: Math.round(l.upscale * 1000) / 1000,
  };
}

/** Framing: where the product goes and how large, and the product resampled to that size. */
async function layoutProduct(shot: Shot): Promise<{ layout: Layout; product: Buffer }> {
  const { req, plan, group } = shot;
  const box = { x: 0, y: 0, width: group.width, height: group.height };
  const layout = computeLayout(plan, req.aspectRatio, req.resolution, shot.firstProduct, box, qualityOf(req));
  const { data: product } = await resize(group, layout.product.width, layout.product.height);
  return { layout, product };
}

const studio: Recipe = async (shot, stage) => {
  const { req, plan, group } = shot;
  const { layout, product } = await stage('layout', () => layoutProduct(shot));
  const lit = await stage('light', async () => {
    const work = await workProduct(product, layout);
    const focus = { x: work.x + work.w / 2, y: work.y + work.h, h: work.h };
    // independent of each other: the shadows' blurs run in libvips while the pattern is drawn
    const [pattern, shadows] = await Promise.all([
      renderPattern(plan, layout.work.width, layout.work.height, req.seed, focus),
      groupShadows(plan, layout, work, group),
    ]);
    // a photographic environment lights the product too: its diffuse light and its dominant light's colour
    const photo = environmentLook(plan, req.seed);
    const env = photo && await prepareEnvironment(photo.hdri);
    const look = env && environmentLook(plan, req.seed, env.light);
    const relit = plan.light.relight_product
      ? relightProduct(rgba8(product, layout.product.width, layout.product.height), {
        light: plan.light, exposure: plan.grade.exposure, pattern: pattern ? productPattern(pattern, layout) : null,
        environment: look && env ? { sh: env.sh, yaw: look.yaw, colour: env.light.colour } : null,
      })
      : product;
    return { work, pattern, shadows, relit, look };
  });
  const { work, look } = lit;
  const set = await stage('scene', async () => {
    // a photograph's own lights become bokeh through the lens blur (bokeh asked for also opens the
    // lens wider, backdrop.ts); drawn discs join them only where the prompt names bokeh
    // steam and smoke where the product lets them rise: from its opening, or behind it (scene/effects.ts decides)
    const k = work.w / group.width;
    const placed = placeEffects(plan, {
      rgba: work.rgba, x: work.x, y: work.y, w: work.w, h: work.h,
      boxes: group.boxes.map((b) => ({ x: Math.round(b.x * k), y: Math.round(b.y * k), width: Math.max(1, Math.round(b.width * k)), height: Math.max(1, Math.round(b.height * k)) })),
    }, req.prompt);
    const drawn = placed.plan;
    const fxPlan = look && !drawn.words.understood.some((w) => w.fields.includes('effects.bokeh')) ? { ...drawn, effects: { ...drawn.effects, bokeh: 0 } } : drawn;
    const effects = await renderEffects({
      plan: fxPlan, width: layout.work.width, height: layout.work.height, seed: req.seed,
      box: { x: work.x, y: work.y, w: work.w, h: work.h }, edgeY: layout.camera.edgeY * layout.work.scale,
      vapour: placed.vapour, productAlpha: work.alpha,
    });
    const scene = await renderScene({
      plan, layout, seed: req.seed, product: work, shadows: lit.shadows, pattern: lit.pattern, behind: effects.behind,
      photo: look && { look, quality: qualityOf(req) },
    });
    return { scene, front: effects.front, plan: drawn };
  });
  const frame = await stage('compose', () => composeFrame({
    layout, scene: set.scene, product: rgba8(lit.relit, layout.product.width, layout.product.height),
    front: set.front && rgba8(set.front, layout.work.width, layout.work.height), grain: plan.grade.grain, seed: req.seed, grainOverProduct: plan.light.relight_product,
  }));
  // with relighting on, also measure the product as composited before the light touched it
  const fidelity = await stage('fidelity', () => fidelityFigures(group, cropClamped(frame, layout.product),
    plan.light.relight_product ? rgba8(product, layout.product.width, layout.product.height) : null));
  return { frame, placement: placementOf(layout), fidelity, render: renderReport(req, layout, look), ...(set.plan === plan ? {} : { plan: set.plan }) };
};

const scenePhoto: Recipe = async (shot, stage) => {
  const { req, plan, group, photo } = shot;
  if (!photo) throw new Error('the scene photo recipe needs a scene photo');
  const placed = await stage('compose', () => composeIntoPhoto({
    plan, backdrop: photo.image, reading: photo.reading, group, seed: req.seed,
  }));
  const l = placed.layout;
  const fidelity = await stage('fidelity', () => fidelityFigures(group, cropClamped(placed.frame, l.product),
    plan.light.relight_product ? rgba8(placed.unlit, l.product.width, l.product.height) : null));
  return { frame: placed.frame, placement: placementOf(l), fidelity };
};

const transparent: Recipe = async (shot, stage) => {
  const { layout, product } = await stage('layout', () => layoutProduct(shot));
  const frame = await stage('compose', () => composeTransparent(layout, rgba8(product, layout.product.width, layout.product.height)));
  const fidelity = await stage('fidelity', () => fidelityFigures(shot.group, cropClamped(frame, layout.product), null));
  return { frame, placement: placementOf(layout), fidelity };
};

/** The layout's backdrop: a flat light grey the upstream paints over. */
export const LAYOUT_GREY = 214;

/** The product over a flat grey at its layout box, and the mask that keeps it (alpha = the matte). */
export function layoutImages(width: number, height: number, product: Rgba8, box: Box): { layout: Rgb8; mask: Rgba8 } {
  const layout = rgb8(Buffer.alloc(width * height * 3, LAYOUT_GREY), width, height);
  const mask = rgba8(Buffer.alloc(width * height * 4), width, height);
  for (let y = 0; y < product.height; y++) {
    const fy = box.y + y;
    if (fy < 0 || fy >= height) continue;
    for (let x = 0; x < product.width; x++) {
      const fx = box.x + x;
      if (fx < 0 || fx >= width) continue;
      const q = (y * product.width + x) * 4, o = fy * width + fx, a = product.data[q + 3]!;
      for (let c = 0; c < 3; c++) layout.data[o * 3 + c] = Math.round((product.data[q + c]! * a + LAYOUT_GREY * (255 - a)) / 255);
      mask.data[o * 4 + 3] = a;
    }
  }
  return { layout, mask };
}

/**
 * Generative: our framing places the product for the requested ratio and resolution on a flat grey,
 * the upstream paints the scene around it (with a mask that keeps the product where the API takes
 * one), and the product lock finds the product in the painted frame and puts the photographed
 * pixels back (strict: fails the task when the upstream changed the silhouette). Fidelity is read
 * where the lock found the product.
 */
const generative: Recipe = async (shot, stage) => {
  const { req, group } = shot;
  const g = req.generative, paint = shot.paint;
  if (!g || !paint) throw new Error('the generative recipe needs a generative request and a paint function');
  const { layout, product: resized } = await stage('layout', () => layoutProduct(shot));
  const box = layout.product;
  const product = rgba8(resized, box.width, box.height);
  const painted = await stage('paint', async () => {
    const images = layoutImages(layout.width, layout.height, product, box);
    const [png, mask] = await Promise.all([encodeImage(images.layout, 'png'), encodeImage(images.mask, 'png')]);
    try {
      return await paint.fn({
        engine: g.engine, model: g.model, prompt: req.prompt, layout: png, mask,
        aspectRatio: req.aspectRatio, resolution: req.resolution, jobKey: g.jobKey, signal: paint.signal,
        ...(g.upstreamTaskId ? { upstreamTaskId: g.upstreamTaskId } : {}),
      });
    } catch (err) {
      if (paint.signal?.aborted) throw err;
      throw new UpstreamError(g.engine, err);
    }
  });
  const locked = await stage('lock', () => lockPainted(painted.image, layout, product, box, g.lock, paint.maxPixels, g.engine));
  const fidelity = await stage('fidelity', () => fidelityFigures(group, sampleAt(locked.frame, box, locked.report.transform), null));
  return {
    frame: locked.frame, placement: placementOf(layout), fidelity, lock: locked.report,
    upstream: {
      engine: g.engine, taskId: painted.taskId, createAttempts: painted.createAttempts, replayed: painted.replayed,
      ...(painted.model ? { model: painted.model } : {}),
      ...(g.upstreamTaskId && painted.taskId === g.upstreamTaskId ? { resumed: true } : {}),
      ...(painted.callback ? { callback: painted.callback } : {}),
    },
  };
};

/**
 * An upstream's painted image brought to the layout's size (cover-fitted, so an upstream that answers
 * another size or ratio still lines up), with the photographed product locked back (engine/lock). An
 * unreadable image is the upstream's failure; a strict lock's refusal fails the task with its reason.
 */
export async function lockPainted(image: Buffer, size: { width: number; height: number }, product: Rgba8, box: Box, mode: LockMode, maxPixels: number, upstream: string): Promise<ReturnType<typeof lockProduct>> {
  let decoded;
  try {
    decoded = await decodeImage(image, { maxPixels });
  } catch (err) {
    throw new UpstreamError(upstream, new PermanentTaskError(`the ${upstream} upstream's image could not be read: ${err instanceof Error ? err.message : String(err)}`));
  }
  const generated = await coverRgb(decoded.image, size.width, size.height);
  try {
    return lockProduct({ generated, product, box, mode });
  } catch (err) {
    if (err instanceof LockError) throw new PermanentTaskError(`${err.message}; input.lock blend keeps the product anyway`, 'TASK_FAILED', { cause: err });
    throw err;
  }
}

/**
 * The frame's product where the lock found it, brought back to the layout box (bilinear samples at
 * the transform of each product pixel), so fidelity compares pixel for pixel with the source.
 */
function sampleAt(frame: Rgb8, box: Box, t: Similarity): Rgb8 {
  const out = rgb8(Buffer.alloc(box.width * box.height * 3), box.width, box.height);
  const W = frame.width, H = frame.height;
  for (let v = 0; v < box.height; v++) {
    for (let u = 0; u < box.width; u++) {
      const [fx, fy] = applySimilarity(t, box, u, v);
      const x = Math.min(W - 1.001, Math.max(0, fx)), y = Math.min(H - 1.001, Math.max(0, fy));
      const x0 = Math.floor(x), y0 = Math.floor(y), ax = x - x0, ay = y - y0;
      const i00 = (y0 * W + x0) * 3, i10 = i00 + 3, i01 = i00 + W * 3, i11 = i01 + 3;
      const o = (v * box.width + u) * 3;
      for (let c = 0; c < 3; c++) {
        const top = frame.data[i00 + c]! * (1 - ax) + frame.data[i10 + c]! * ax;
        const bottom = frame.data[i01 + c]! * (1 - ax) + frame.data[i11 + c]! * ax;
        out.data[o + c] = Math.round(top * (1 - ay) + bottom * ay);
      }
    }
  }
  return out;
}

export const RECIPES: Record<RecipeName, Recipe> = { studio, 'scene photo': scenePhoto, transparent, generative };

/** The product at the working size (for shadows and reflections) and where its top opening is. */
async function workProduct(product: Buffer, l: Layout): Promise<{ rgba: Buffer; alpha: Uint8Array; x: number; y: number; w: number; h: number; topX: number }> {
  const s = l.work.scale;
  const w = Math.max(1, Math.round(l.product.width * s));
  const h = Math.max(1, Math.round(l.product.height * s));
  const rgba = s === 1 ? product : (await resize(rgba8(product, l.product.width, l.product.height), w, h)).data;
  const alpha = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) alpha[i] = rgba[i * 4 + 3]!;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < Math.max(1, Math.round(h * 0.06)); y++) for (let x = 0; x < w; x++) if (alpha[y * w + x]! > 128) { sum += x; n++; }
  const x = Math.round(l.product.x * s);
  const y = Math.round(l.product.y * s);
  return { rgba, alpha, x, y, w, h, topX: x + (n > 0 ? sum / n : w / 2) };
}

/** The pattern mask (over the working frame) resampled over the product's box at output size. */
function productPattern(pattern: Field32, l: Layout): Float32Array {
  const { width: w, height: h, x: px, y: py } = l.product;
  const { data: field, width: W, height: H } = pattern;
  const s = l.work.scale;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const wy = Math.min(H - 1, Math.max(0, Math.round((py + y) * s)));
    for (let x = 0; x < w; x++) {
      const wx = Math.min(W - 1, Math.max(0, Math.round((px + x) * s)));
      out[y * w + x] = field[wy * W + wx]!;
    }
  }
  return out;
}

/** Each product of the group casts its own contact and cast shadows; the masks are merged. */
async function groupShadows(plan: ScenePlan, layout: Layout, work: { alpha: Uint8Array; x: number; y: number; w: number; h: number }, group: Group): Promise<ShadowMasks> {
  const geometry = {
    width: layout.work.width, height: layout.work.height, baseY: layout.baseY * layout.work.scale,
    // the shadow's footprint follows the product's own (photographed) view of its base, which stays
    // near eye level even when the surface is seen from high above
    foreshorten: Math.min(0.3, (layout.baseY - layout.camera.vanishY) / layout.camera.focal), topDown: layout.camera.topDown,
  };
  if (group.boxes.length === 1) return computeShadows(plan, geometry, work);
  const sx = work.w / group.width;
  const sy = work.h / group.height;
  const out: ShadowMasks = { cast: null, contact: null, occlusion: null };
  for (const b of group.boxes) {
    const x0 = Math.max(0, Math.floor(b.x * sx));
    const x1 = Math.min(work.w, Math.ceil((b.x + b.width) * sx));
    const y0 = Math.max(0, Math.floor(b.y * sy));
    const w = Math.max(1, x1 - x0);
    const h = Math.max(1, work.h - y0);
    const alpha = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) alpha[y * w + x] = work.alpha[(y0 + y) * work.w + x0 + x] ?? 0;
    const m = await computeShadows(plan, geometry, { alpha, x: work.x + x0, y: work.y + y0, w, h });
    for (const k of ['cast', 'contact', 'occlusion'] as const) {
      const add = m[k];
      if (!add) continue;
      const into = out[k];
      if (!into) { out[k] = add; continue; }
      for (let i = 0; i < into.length; i++) if (add[i]! > into[i]!) into[i] = add[i]!;
    }
  }
  return out;
}
