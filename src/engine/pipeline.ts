import { ScenePlanSchema, type ScenePlan } from '../contract/scene.js';
import { PermanentTaskError } from '../errors.js';
import { matteBox } from './cutout/cache.js';
import { RECIPES, recipeFor, UpstreamError, type PaintFn, type Rendered, type Shot, type StageRunner } from './compose/recipes.js';
import { UPSCALE_WARNING, outputSize } from '../contract/models.js';
import { editPlan, mergePlan, parseSceneOverride, planScene, ScenePlanError } from '../plan/index.js';
import { rolesFromPrompt, type Role } from '../plan/roles.js';
import { creditSceneTag } from '../plan/scene-tags.js';
import { looksLikeScene, readScene, readStyle, smallCopy, type SceneReading } from './refs/analyze.js';
import { buildGroup } from './refs/group.js';
import { ImageDecodeError, MIME, coverRgb, decodeImage, encodeImage, resize } from './codec.js';
import { crop } from './raster/crop.js';
import { mask8, rgba8, type Box, type Raster8, type Rgba8 } from './raster/types.js';
import type { EngineOptions, LibrarySceneRequest, TransformRequest, TransformResult } from './types.js';

/**
 * transform(): named stages, each timed under its name in the report —
 *
 *   decode → cutout (roles, mattes, product crops) → plan (output size, scene photo and style
 *   readings, the ScenePlan, the product group) → the recipe's stages → encode
 *
 * where the recipe (compose/recipes.ts) is the studio (layout → light → scene → compose →
 * fidelity), the scene photo (compose → fidelity) or transparent (layout → compose → fidelity).
 * A pure function of the request and seed: the same inputs give byte-identical output.
 */

export interface CutoutOutput {
  alpha: Buffer;
  foreground: Raster8;
  cached: boolean;
  /** the side the model ran at (null: the source's own alpha, or not recorded) */
  modelSize?: number | null;
  /** the matte's box (matteBox), where the cutout already knows it */
  box?: Box;
  /** RGBA of a region of the foreground, where the cutout builds it without the whole frame (a cache hit does) */
  crop?(region: Box): Raster8;
}

/** consume: the caller no longer needs the image's pixels, so the cutout may overwrite them */
export type CutoutFn = (image: Raster8, opts: { hasAlpha?: boolean; consume?: boolean }) => Promise<CutoutOutput>;

/**
 * The cutout's quality setting: the model's side (and the side for a photo that is not on a plain
 * backdrop, where that differs), and whether a mirrored pass is averaged in (Pro).
 */
export interface CutoutSetting {
  modelSize: number;
  sceneModelSize?: number;
  mirrored: boolean;
}

export interface TransformDeps {
  opts: EngineOptions;
  cutout: CutoutFn;
  /** what `cutout` runs, for the report */
  cutoutSetting?: CutoutSetting;
  /** generative upstreams (the worker builds them from src/providers); without it `generative` requests fail */
  paint?: PaintFn;
  /** `studio`: a generative upstream that fails is replaced by the studio, and the report says so */
  fallback?: 'off' | 'studio';
}

export type { PaintFn } from './compose/recipes.js';

type Reference = NonNullable<ScenePlan['references']>[number];

interface PlanContext {
  references: Reference[];
  style?: { index: number; reading: ReturnType<typeof readStyle> };
  /** a scene reference (`index`) or a library scene (`library`, its hints mapped onto the output frame) */
  scene?: { index?: number; reading: SceneReading; library?: LibrarySceneRequest; placement?: LibrarySceneRequest['placement'] };
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
        ? {
            light: { from: ctx.scene.reading.light.from, azimuth: ctx.scene.reading.light.azimuth, elevation: 35, temperature: ctx.scene.reading.light.temperature },
            // a library scene's sidecar says where products stand in it
            ...(ctx.scene.placement ? { placement: ctx.scene.placement } : {}),
          }
        : {};
      plan = planScene(req.prompt, { scene: mergePlan(mergePlan(look, photoLight), explicit) });
      if (ctx.style) plan.style_from = { index: ctx.style.index, values: ctx.style.reading.values };
    }
    if (ctx.scene) {
      const r = ctx.scene.reading;
      const lib = ctx.scene.library;
      plan.scene_photo = {
        ...(ctx.scene.index !== undefined ? { index: ctx.scene.index } : {}),
        ...(lib ? { library: { id: lib.id, title: lib.title, tag: lib.tag, sha256: lib.sha256 } } : {}),
        surface_y: r.baseRow,
        light: r.light,
      };
      // the tag's words name the scene, whatever the vocabulary read into them
      if (lib?.match) plan.words = creditSceneTag(plan.words, lib.match);
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

/**
 * References are rendered from at most this many pixels: a 4K frame is 8.3 MP, so a 24 MP working
 * copy (6000×4000) keeps every product that fills a fraction of its photo sharp, while a 50 MP source
 * no longer costs its full frame in every buffer of the cutout.
 */
export const WORKING_PIXELS = 24_000_000;

/** Told the name of each stage as it starts (the worker shows `archiving` from `encode` on). */
export type StageListener = (name: string) => void;

export async function transform(req: TransformRequest, deps: TransformDeps, signal?: AbortSignal, onStage?: StageListener): Promise<TransformResult> {
  const timings: Record<string, number> = {};
  const stage: StageRunner = async (name, run) => {
    onStage?.(name);
    const t0 = performance.now();
    const out = await run();
    timings[name] = Math.round((performance.now() - t0) * 10) / 10;
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    return out;
  };

  if (req.sources.length === 0) throw new PermanentTaskError('Expected at least one reference image for input_urls but received none');
  const decoded = await stage('decode', () =>
    Promise.all(req.sources.map((f) => decodeImage(f, { maxPixels: deps.opts.maxInputPixels, workingPixels: WORKING_PIXELS }))),
  );
  const images = decoded.map((d) => d.image);
  const cut = await stage('cutout', () => cutProducts(req, images, decoded.map((d) => d.hasAlpha), deps.cutout));
  const shot = await stage('plan', () => planShot(req, images, cut.refs, cut.productIdx, cut.crops, deps.opts.maxInputPixels));
  if (req.generative) {
    const paint: PaintFn = deps.paint ?? (() => Promise.reject(new PermanentTaskError(`the ${req.generative!.engine} engine is not configured on this worker`)));
    shot.paint = { fn: paint, maxPixels: deps.opts.maxInputPixels, signal };
  }
  const recipe = recipeFor(shot);
  let rendered: Rendered;
  let fallback: { from: string; reason: string } | undefined;
  try {
    rendered = await RECIPES[recipe](shot, stage);
  } catch (err) {
    if (!(err instanceof UpstreamError) || deps.fallback !== 'studio' || signal?.aborted) throw err;
    // the upstream is down (or refused): the studio renders the shot instead, and the report says so
    fallback = { from: err.engine, reason: err.message };
    const studio = { ...shot, req: { ...shot.req, generative: undefined } };
    rendered = await RECIPES[recipeFor(studio)](studio, stage);
  }
  const { frame, placement, fidelity, render, lock, upstream, plan } = rendered;
  const [data, mattes] = await stage('encode', () =>
    Promise.all([encodeImage(frame, req.outputFormat), req.keepMattes ? encodeMattes(cut.mattes) : Promise.resolve(undefined)]),
  );
  timings.total = Math.round(Object.values(timings).reduce((a, b) => a + b, 0) * 10) / 10;
  return {
    data,
    format: req.outputFormat,
    mime: MIME[req.outputFormat],
    width: frame.width,
    height: frame.height,
    ...(mattes ? { mattes } : {}),
    report: {
      engine: recipe === 'generative' && !fallback ? req.generative!.engine : 'studio',
      plan: plan ?? shot.plan, placement, fidelity, timings, cutout: cutoutReport(cut, deps.cutoutSetting),
      ...(render ? { render } : {}), ...(lock ? { lock } : {}), ...(upstream ? { upstream } : {}), ...(fallback ? { fallback } : {}), ...warningsFor(placement),
    },
  };
}

function warningsFor(placement: { upscale: number }): { warnings?: string[] } {
  if (!(placement.upscale > UPSCALE_WARNING)) return {};
  return { warnings: [`the product is enlarged ${placement.upscale.toFixed(1)}× from its photo for this output and may look soft: a larger photo or a lower resolution keeps it sharp`] };
}

/** A product reference's matte as the cutout made it, at the reference's working size. */
interface ProductMatte {
  ref: number;
  alpha: Buffer;
  width: number;
  height: number;
}

/** The mattes as 8-bit grey PNGs, for the worker to keep beside the output (the studio's Fix cutout edits them). */
async function encodeMattes(mattes: ProductMatte[]): Promise<NonNullable<TransformResult['mattes']>> {
  return Promise.all(
    mattes.map(async (m) => ({ ref: m.ref, width: m.width, height: m.height, png: await encodeImage(mask8(m.alpha, m.width, m.height), 'png') })),
  );
}

/** Each reference's role, then the products' mattes and their crops to what they cover. */
async function cutProducts(
  req: TransformRequest,
  images: Raster8[],
  hasAlpha: boolean[],
  cutout: CutoutFn,
): Promise<{ refs: Reference[]; productIdx: number[]; crops: Rgba8[]; cached: boolean; modelSize: number | null; mattes: ProductMatte[] }> {
  const { refs, cuts } = await assignRoles(req, images, hasAlpha, cutout);
  const productIdx = refs.filter((r) => r.role === 'product').map((r) => r.index - 1);
  let cached = true;
  let modelSize: number | null = null;
  const crops: Rgba8[] = [];
  const mattes: ProductMatte[] = [];
  for (const i of productIdx) {
    // past this point only the size of a product image is read, so its pixels may become the foreground
    const cut = cuts.get(i) ?? await cutout(images[i]!, { hasAlpha: hasAlpha[i], consume: true });
    cached &&= cut.cached;
    if (cut.modelSize) modelSize = Math.max(modelSize ?? 0, cut.modelSize);
    const img = images[i]!;
    const b = cut.box ?? matteBox(mask8(cut.alpha, img.width, img.height));
    if (!foundProduct(cut.alpha, img.width, img.height, b)) {
      throw new ImageDecodeError('no product found: the cutout sees nothing in front of the background (a blank or uniform image?)', { source: req.sources[i] });
    }
    const rgba = cut.crop ? cut.crop(b).data : crop(rgba8(cut.foreground.data, img.width, img.height), b).data;
    crops.push(rgba8(rgba, b.width, b.height));
    if (req.keepMattes) mattes.push({ ref: i, alpha: cut.alpha, width: img.width, height: img.height });
  }
  return { refs, productIdx, crops, cached, modelSize, mattes };
}

/**
 * The report's `cutout`: cached or not, the side the model ran at (the largest over the products; left
 * out when no product's matte came from the model at a recorded side) and the mirrored pass.
 */
function cutoutReport(cut: { cached: boolean; modelSize: number | null }, setting?: CutoutSetting): NonNullable<TransformResult['report']['cutout']> {
  return { cached: cut.cached, ...(cut.modelSize ? { modelSize: cut.modelSize } : {}), ...(setting ? { mirrored: setting.mirrored } : {}) };
}

/**
 * Whether a matte holds a product: at least 0.05% of the frame (and 256 px) at 50% alpha or more.
 * The box is the matte's bounds (the whole frame when nothing is over alpha 8), so only a box that
 * could be empty or the whole frame needs the alpha counted.
 */
export function foundProduct(alpha: Buffer, width: number, height: number, box: Box): boolean {
  const need = Math.max(256, Math.round(width * height * 0.0005));
  if (box.width * box.height < need) return false;
  if (box.width < width || box.height < height) {
    // a box smaller than the frame holds something over alpha 8; count only when it is small
    if (box.width * box.height > need * 16) return true;
  }
  let n = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    for (let x = box.x, i = y * width + box.x; x < box.x + box.width; x++, i++) if (alpha[i]! >= 128 && ++n >= need) return true;
  }
  return false;
}

/** The output size, the scene photo and style readings, the plan and the product group. */
async function planShot(req: TransformRequest, images: Raster8[], refs: Reference[], productIdx: number[], crops: Rgba8[], maxPixels: number): Promise<Shot> {
  const sceneAt = req.background === 'transparent' ? -1 : firstOf(refs, 'scene');
  const styleAt = firstOf(refs, 'style');
  const firstProduct = images[productIdx[0]!]!;
  // a library scene the prompt named is the set when no reference is one
  const library = sceneAt < 0 && req.background !== 'transparent' ? req.libraryScene : undefined;
  const libraryImage = library && (await decodeImage(library.path, { maxPixels, workingPixels: WORKING_PIXELS }).catch((err: unknown) => {
    // named as the library's scene, never by this server's path
    throw err instanceof ImageDecodeError ? new ImageDecodeError(`the scene library's photo "${library.id}": ${err.message}`) : err;
  })).image;
  const sceneImage = sceneAt >= 0 ? images[sceneAt]! : libraryImage;
  const size = outputSize(req.aspectRatio, req.resolution, sceneImage ?? firstProduct);
  const ctx: PlanContext = { references: refs };
  let photo: Shot['photo'];
  if (sceneImage) {
    const image = await coverRgb(sceneImage, size.width, size.height);
    photo = { image, reading: readScene(await smallCopy(image)) };
    const placement = library?.placement && coverPlacement(library.placement, sceneImage, size);
    // the sidecar's surface row is the row read from the photo
    if (placement?.y !== undefined) {
      photo.reading.baseRow = placement.y;
      photo.reading.backEdge = Math.min(photo.reading.backEdge, placement.y);
    }
    ctx.scene = sceneAt >= 0 ? { index: sceneAt + 1, reading: photo.reading } : { reading: photo.reading, library, placement };
  }
  if (styleAt >= 0) ctx.style = { index: styleAt + 1, reading: readStyle(await smallCopy(images[styleAt]!)) };
  const plan = resolvePlan(req, ctx);
  const group = await buildGroup(crops, plan.placement?.sizes);
  return { req, plan, group, firstProduct: { width: firstProduct.width, height: firstProduct.height }, photo };
}

/**
 * Fractions of a photo → fractions of the output frame it is cover-fitted to (centred, cropped on
 * the long side), so a library scene's placement hints land where its sidecar says.
 */
export function coverPlacement(
  hint: NonNullable<LibrarySceneRequest['placement']>,
  photo: { width: number; height: number },
  out: { width: number; height: number },
): NonNullable<LibrarySceneRequest['placement']> {
  const s = Math.max(out.width / photo.width, out.height / photo.height);
  const ox = (photo.width * s - out.width) / 2;
  const oy = (photo.height * s - out.height) / 2;
  const unit = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;
  return {
    ...(hint.x !== undefined ? { x: unit((hint.x * photo.width * s - ox) / out.width) } : {}),
    ...(hint.y !== undefined ? { y: unit((hint.y * photo.height * s - oy) / out.height) } : {}),
    ...(hint.height !== undefined ? { height: Math.min(0.95, Math.max(0.02, unit((hint.height * photo.height * s) / out.height))) } : {}),
  };
}
