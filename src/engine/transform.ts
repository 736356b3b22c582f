import { ScenePlanSchema, type ScenePlan } from '../contract/scene.js';
import { PermanentTaskError } from '../errors.js';
import { matteBox } from './cutout/cache.js';
import { composeFrame, composeTransparent, computeLayout } from './compose/index.js';
import { measureFidelity, type DeltaE } from './fidelity.js';
import { renderPattern } from './light/pattern.js';
import { relightProduct } from './light/relight.js';
import { computeShadows } from './light/shadows.js';
import { outputSize } from '../contract/models.js';
import { editPlan, mergePlan, parseSceneOverride, planScene, ScenePlanError } from './plan/index.js';
import { rolesFromPrompt, type Role } from './plan/roles.js';
import { looksLikeScene, readScene, readStyle, smallCopy, type SceneReading } from './refs/analyze.js';
import { buildGroup, type Group } from './refs/group.js';
import { composeIntoPhoto } from './compose/photo.js';
import { renderEffects } from './scene/effects.js';
import { renderScene } from './scene/render.js';
import { MIME, coverRgb, decodeImage, encodeImage, resize } from './codec.js';
import { crop } from './raster/crop.js';
import { mask8, rgba8, type Box, type Raster8 } from './raster/types.js';
import type { EngineOptions, Layout, ShadowMasks, TransformRequest, TransformResult } from './types.js';

/**
 * The studio pipeline: decode → cutout → plan → scene → light → compose → fidelity → encode.
 * Pure function of the request and seed: the same inputs give byte-identical output.
 */

export interface CutoutOutput {
  alpha: Buffer;
  foreground: Raster8;
  cached: boolean;
  /** the matte's box (matteBox), where the cutout already knows it */
  box?: Box;
  /** RGBA of a region of the foreground, where the cutout builds it without the whole frame (a cache hit does) */
  crop?(region: Box): Raster8;
}

/** consume: the caller no longer needs the image's pixels, so the cutout may overwrite them */
export type CutoutFn = (image: Raster8, opts: { hasAlpha?: boolean; consume?: boolean }) => Promise<CutoutOutput>;

export interface TransformDeps {
  opts: EngineOptions;
  cutout: CutoutFn;
}

type Reference = NonNullable<ScenePlan['references']>[number];

interface PlanContext {
  references: Reference[];
  style?: { index: number; reading: ReturnType<typeof readStyle> };
  scene?: { index: number; reading: SceneReading };
}

function resolvePlan(req: TransformRequest, ctx: PlanContext): ScenePlan {
  try {
    let plan: ScenePlan;
    if (req.basePlan !== undefined) {
      const base = ScenePlanSchema.parse(req.basePlan);
      // reuse (scene_from): the same scene and light exactly; edit: the prompt moves the parent's values
      if (req.planMode === 'edit') plan = editPlan(base, req.prompt, { scene: req.scene === undefined ? undefined : parseSceneOverride(req.scene) });
      else return ScenePlanSchema.parse(mergePlan(base, req.scene ?? {}));
    } else {
      const explicit = req.scene === undefined ? {} : parseSceneOverride(req.scene);
      const look = ctx.style ? mergePlan(ctx.style.reading.override, explicit) : explicit;
      // a scene photo's own light is the light; explicit settings still win
      const photoLight = ctx.scene
        ? { light: { from: ctx.scene.reading.light.from, azimuth: ctx.scene.reading.light.azimuth, elevation: 35, temperature: ctx.scene.reading.light.temperature } }
        : {};
      plan = planScene(req.prompt, { scene: mergePlan(mergePlan(look, photoLight), explicit) });
      if (ctx.style) plan.style_from = { index: ctx.style.index, values: ctx.style.reading.values };
    }
    if (ctx.scene) {
      const r = ctx.scene.reading;
      plan.scene_photo = { index: ctx.scene.index, surface_y: r.baseRow, light: r.light };
    }
    if (req.sources.length > 1 || req.roles) plan.references = ctx.references;
    return ScenePlanSchema.parse(plan);
  } catch (err) {
    if (err instanceof ScenePlanError) throw new PermanentTaskError(`input.${err.message}`);
    throw err;
  }
}

/**
 * Each reference's role: input.roles, then the prompt ("the table in image 2"), then the parent
 * turn's roles, then what the image looks like (no single compact foreground: a scene); the first
 * reference is the product otherwise. At least one reference is always a product.
 */
async function assignRoles(req: TransformRequest, images: Raster8[], hasAlpha: boolean[], cutout: CutoutFn): Promise<{ refs: Reference[]; cuts: Map<number, CutoutOutput> }> {
  const n = images.length;
  const fromPrompt = rolesFromPrompt(req.prompt, n);
  const parent = (req.basePlan as { references?: Reference[] } | undefined)?.references;
  const cuts = new Map<number, CutoutOutput>();
  const refs: Reference[] = [];
  for (let i = 0; i < n; i++) {
    const given = req.roles?.[i];
    if (given) { refs.push({ index: i + 1, role: given, source: 'input.roles' }); continue; }
    if (fromPrompt[i]) { refs.push({ index: i + 1, role: fromPrompt[i]!, source: 'prompt' }); continue; }
    const inherited = parent?.find((r) => r.index === i + 1);
    if (inherited && req.planMode === 'edit') { refs.push(inherited); continue; }
    if (n === 1) { refs.push({ index: 1, role: 'product', source: 'default' }); continue; }
    const cut = await cutout(images[i]!, { hasAlpha: hasAlpha[i] });
    cuts.set(i, cut);
    const small = await smallCopy(images[i]!);
    const matte = await resize(mask8(cut.alpha, images[i]!.width, images[i]!.height), small.width, small.height);
    const scene = looksLikeScene(small, matte);
    refs.push({ index: i + 1, role: scene ? 'scene' : 'product', source: scene ? 'detected' : i === 0 ? 'default' : 'detected' });
  }
  if (!refs.some((r) => r.role === 'product')) {
    const first = refs.findIndex((r) => r.source !== 'input.roles');
    if (first < 0) throw new PermanentTaskError('input.roles must name at least one product reference');
    refs[first] = { index: first + 1, role: 'product', source: 'default' };
  }
  return { refs, cuts };
}

const firstOf = (refs: Reference[], role: Role) => refs.findIndex((r) => r.role === role);

export async function transform(req: TransformRequest, deps: TransformDeps, signal?: AbortSignal): Promise<TransformResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round((now - t) * 10) / 10;
    t = now;
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
  };

  if (req.sources.length === 0) throw new PermanentTaskError('Expected at least one reference image for input_urls but received none');
  const decodedAll = await Promise.all(req.sources.map((f) => decodeImage(f, { maxPixels: deps.opts.maxInputPixels })));
  lap('decode');
  const images = decodedAll.map((d) => d.image);
  const { refs, cuts } = await assignRoles(req, images, decodedAll.map((d) => d.hasAlpha), deps.cutout);
  const productIdx = refs.filter((r) => r.role === 'product').map((r) => r.index - 1);
  let cached = true;
  const crops = [];
  for (const i of productIdx) {
    // past this point only the size of a product image is read, so its pixels may become the foreground
    const cut = cuts.get(i) ?? await deps.cutout(images[i]!, { hasAlpha: decodedAll[i]!.hasAlpha, consume: true });
    cached &&= cut.cached;
    const img = images[i]!;
    const b = cut.box ?? matteBox(cut.alpha, img.width, img.height);
    const rgba = cut.crop ? cut.crop(b).data : crop(rgba8(cut.foreground.data, img.width, img.height), b).data;
    crops.push({ rgba, width: b.width, height: b.height });
  }
  lap('cutout');

  const sceneAt = req.background === 'transparent' ? -1 : firstOf(refs, 'scene');
  const styleAt = firstOf(refs, 'style');
  const firstProduct = images[productIdx[0]!]!;
  const size = outputSize(req.aspectRatio, req.resolution, sceneAt >= 0 ? images[sceneAt]! : firstProduct);
  let photo: Buffer | null = null;
  const ctx: PlanContext = { references: refs };
  if (sceneAt >= 0) {
    const img = images[sceneAt]!;
    const cover = await coverRgb(img, size.width, size.height);
    photo = cover.data;
    ctx.scene = { index: sceneAt + 1, reading: readScene(await smallCopy(cover)) };
  }
  if (styleAt >= 0) ctx.style = { index: styleAt + 1, reading: readStyle(await smallCopy(images[styleAt]!)) };
  const plan = resolvePlan(req, ctx);
  const group = await buildGroup(crops, plan.placement?.sizes);
  lap('plan');

  const sourcePatch = rgba8(group.rgba, group.width, group.height);
  if (photo && ctx.scene) {
    const placed = await composeIntoPhoto({ plan, backdrop: photo, width: size.width, height: size.height, reading: ctx.scene.reading, group, seed: req.seed });
    lap('compose');
    const l = placed.layout;
    const [lit, unlit = lit] = await measureFidelity(sourcePatch, cropPatch(placed.frame, l),
      ...(plan.light.relight_product ? [rgba8(placed.unlit, l.product.width, l.product.height)] : []));
    lap('fidelity');
    const placement = {
      x: l.product.x, y: l.product.y, width: l.product.width, height: l.product.height,
      scale: Math.round(l.scale * 10000) / 10000, upscale: Math.round(l.upscale * 1000) / 1000,
    };
    return finish(req, placed.frame, plan, placement, { deltaE: lit!, deltaEUnlit: unlit! }, timings, cached, lap);
  }

  const box = { x: 0, y: 0, width: group.width, height: group.height };
  const layout = computeLayout(plan, req.aspectRatio, req.resolution, firstProduct, box);
  const product = (await resize(rgba8(group.rgba, group.width, group.height), layout.product.width, layout.product.height)).data;
  lap('layout');

  const placement = {
    x: layout.product.x, y: layout.product.y, width: layout.product.width, height: layout.product.height,
    scale: Math.round(layout.scale * 10000) / 10000, upscale: Math.round(layout.upscale * 1000) / 1000,
  };
  if (req.background === 'transparent') {
    const frame = await composeTransparent(layout, product);
    lap('compose');
    const [fidelity] = await measureFidelity(sourcePatch, cropPatch(frame, layout));
    lap('fidelity');
    return finish(req, frame, plan, placement, { deltaE: fidelity!, deltaEUnlit: fidelity! }, timings, cached, lap);
  }

  const work = await workProduct(product, layout);
  const focus = { x: work.x + work.w / 2, y: work.y + work.h, h: work.h };
  const pattern = await renderPattern(plan, layout.work.width, layout.work.height, req.seed, focus);
  const shadows = await groupShadows(plan, layout, work, group);
  const relit = plan.light.relight_product
    ? relightProduct(product, layout.product.width, layout.product.height, {
      light: plan.light, exposure: plan.grade.exposure, pattern: pattern ? productPattern(pattern, layout) : null,
    })
    : product;
  lap('light');
  const effects = await renderEffects({
    plan, width: layout.work.width, height: layout.work.height, seed: req.seed,
    box: { x: work.x, y: work.y, w: work.w, h: work.h }, topX: work.topX, edgeY: layout.camera.edgeY * layout.work.scale,
  });
  const scene = await renderScene({ plan, layout, seed: req.seed, product: work, shadows, pattern, behind: effects.behind });
  lap('scene');
  const frame = await composeFrame({
    layout, scene, product: relit, front: effects.front, grain: plan.grade.grain, seed: req.seed, grainOverProduct: plan.light.relight_product,
  });
  lap('compose');
  // with relighting on, also measure the product as composited before the light touched it
  const [lit, unlit = lit] = await measureFidelity(sourcePatch, cropPatch(frame, layout),
    ...(plan.light.relight_product ? [rgba8(product, layout.product.width, layout.product.height)] : []));
  lap('fidelity');
  return finish(req, frame, plan, placement, { deltaE: lit!, deltaEUnlit: unlit! }, timings, cached, lap);
}

async function finish(
  req: TransformRequest, frame: Raster8, plan: ScenePlan, placement: TransformResult['report']['placement'],
  fidelity: { deltaE: DeltaE; deltaEUnlit: DeltaE }, timings: Record<string, number>, cached: boolean, lap: (n: string) => void,
): Promise<TransformResult> {
  const data = await encodeImage(frame, req.outputFormat);
  lap('encode');
  timings.total = Math.round(Object.values(timings).reduce((a, b) => a + b, 0) * 10) / 10;
  return {
    data,
    format: req.outputFormat,
    mime: MIME[req.outputFormat],
    width: frame.width,
    height: frame.height,
    report: { engine: 'studio', plan, placement, fidelity, timings, cutout: { cached } },
  };
}

function cropPatch(frame: Raster8, l: Layout): Raster8 {
  const { x, y, width: w, height: h } = l.product;
  const c = frame.channels;
  const out = Buffer.alloc(w * h * c);
  for (let row = 0; row < h; row++) {
    const sy = Math.min(frame.height - 1, Math.max(0, y + row));
    const start = (sy * frame.width + Math.max(0, x)) * c;
    frame.data.copy(out, row * w * c, start, start + Math.min(w, frame.width - x) * c);
  }
  return { data: out, width: w, height: h, channels: c };
}

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

/** The pattern mask resampled over the product's box at output size. */
function productPattern(pattern: Float32Array, l: Layout): Float32Array {
  const { width: w, height: h, x: px, y: py } = l.product;
  const W = l.work.width;
  const H = l.work.height;
  const s = l.work.scale;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const wy = Math.min(H - 1, Math.max(0, Math.round((py + y) * s)));
    for (let x = 0; x < w; x++) {
      const wx = Math.min(W - 1, Math.max(0, Math.round((px + x) * s)));
      out[y * w + x] = pattern[wy * W + wx]!;
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
