import { ScenePlanSchema, type ScenePlan } from '../contract/scene.js';
import { PermanentTaskError } from '../errors.js';
import { composeFrame, composeTransparent, computeLayout, type Box, type Layout } from './compose/index.js';
import { measureFidelity, type DeltaE } from './fidelity.js';
import { renderPattern } from './light/pattern.js';
import { relightProduct } from './light/relight.js';
import { computeShadows } from './light/shadows.js';
import { mergePlan, planScene, ScenePlanError } from './plan/index.js';
import { renderEffects } from './scene/effects.js';
import { renderScene } from './scene/render.js';
import { MIME, decodeImage, encodeImage, sharp, type RawImage } from './sharp.js';
import type { EngineOptions, TransformRequest, TransformResult } from './types.js';

/**
 * The studio pipeline: decode → cutout → plan → scene → light → compose → fidelity → encode.
 * Pure function of the request and seed: the same inputs give byte-identical output.
 */

export interface CutoutOutput {
  alpha: Buffer;
  foreground: RawImage;
  cached: boolean;
}

export type CutoutFn = (image: RawImage, opts: { hasAlpha?: boolean }) => Promise<CutoutOutput>;

export interface TransformDeps {
  opts: EngineOptions;
  cutout: CutoutFn;
}

/** The opaque box of a matte (alpha > 8). */
export function alphaBox(alpha: Uint8Array, w: number, h: number): Box {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (alpha[row + x]! > 8) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return { x: 0, y: 0, width: w, height: h };
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

function resolvePlan(req: TransformRequest): ScenePlan {
  try {
    if (req.basePlan !== undefined) {
      const base = ScenePlanSchema.parse(req.basePlan);
      return ScenePlanSchema.parse(mergePlan(base, req.scene ?? {}));
    }
    return planScene(req.prompt, { scene: req.scene });
  } catch (err) {
    if (err instanceof ScenePlanError) throw new PermanentTaskError(`input.${err.message}`);
    throw err;
  }
}

export async function transform(req: TransformRequest, deps: TransformDeps, signal?: AbortSignal): Promise<TransformResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round((now - t) * 10) / 10;
    t = now;
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
  };

  const source = req.sources[0];
  if (!source) throw new PermanentTaskError('Expected at least one reference image for input_urls but received none');
  const decoded = await decodeImage(source, { maxPixels: deps.opts.maxInputPixels });
  lap('decode');
  const cut = await deps.cutout(decoded.image, { hasAlpha: decoded.hasAlpha });
  lap('cutout');
  const plan = resolvePlan(req);
  lap('plan');

  const src = decoded.image;
  const box = alphaBox(cut.alpha, src.width, src.height);
  const layout = computeLayout(plan, req.aspectRatio, req.resolution, src, box);
  const crop = sharp(cut.foreground.data, { raw: { width: src.width, height: src.height, channels: 4 } })
    .extract({ left: box.x, top: box.y, width: box.width, height: box.height });
  const sourceProduct = await crop.clone().raw().toBuffer();
  const product = await crop.clone().resize(layout.product.width, layout.product.height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  lap('layout');

  const placement = {
    x: layout.product.x, y: layout.product.y, width: layout.product.width, height: layout.product.height,
    scale: Math.round(layout.scale * 10000) / 10000, upscale: Math.round(layout.upscale * 1000) / 1000,
  };
  const sourcePatch = { data: sourceProduct, width: box.width, height: box.height, channels: 4 };

  if (req.background === 'transparent') {
    const frame = await composeTransparent(layout, product);
    lap('compose');
    const [fidelity] = await measureFidelity(sourcePatch, cropPatch(frame, layout));
    lap('fidelity');
    return finish(req, frame, plan, placement, { deltaE: fidelity!, deltaEUnlit: fidelity! }, timings, cut.cached, lap);
  }

  const work = await workProduct(product, layout);
  const focus = { x: work.x + work.w / 2, y: work.y + work.h, h: work.h };
  const pattern = await renderPattern(plan, layout.work.width, layout.work.height, req.seed, focus);
  const shadows = await computeShadows(plan, {
    width: layout.work.width, height: layout.work.height, baseY: layout.baseY * layout.work.scale,
    foreshorten: (layout.baseY - layout.camera.vanishY) / layout.camera.focal, topDown: layout.camera.topDown,
  }, { alpha: work.alpha, x: work.x, y: work.y, w: work.w, h: work.h });
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
    ...(plan.light.relight_product ? [{ data: product, width: layout.product.width, height: layout.product.height, channels: 4 }] : []));
  lap('fidelity');
  return finish(req, frame, plan, placement, { deltaE: lit!, deltaEUnlit: unlit! }, timings, cut.cached, lap);
}

async function finish(
  req: TransformRequest, frame: RawImage, plan: ScenePlan, placement: TransformResult['report']['placement'],
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

function cropPatch(frame: RawImage, l: Layout): { data: Buffer; width: number; height: number; channels: number } {
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
  const rgba = s === 1 ? product : await sharp(product, { raw: { width: l.product.width, height: l.product.height, channels: 4 } })
    .resize(w, h, { fit: 'fill' }).raw().toBuffer();
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
