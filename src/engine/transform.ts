import { outputSize } from '../contract/models.js';
import { cutoutImage } from './cutout/index.js';
import { MIME, decodeImage, encodeImage, sharp } from './sharp.js';
import type { EngineOptions, TransformRequest, TransformResult } from './types.js';

/**
 * Interim pipeline: cut the product out and place it on a plain studio backdrop at the requested
 * size. The studio pipeline (plan → scene → light → compose → fidelity) replaces it.
 */
export async function transform(req: TransformRequest, opts: EngineOptions): Promise<TransformResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => { const now = performance.now(); timings[name] = Math.round(now - t); t = now; };

  const src = await decodeImage(req.sources[0]!, { maxPixels: opts.maxInputPixels });
  lap('decode');
  const cut = await cutoutImage(src.image);
  lap('cutout');

  const size = outputSize(req.aspectRatio, req.resolution, src.image);
  const box = bbox(cut.alpha, src.image.width, src.image.height);
  const scale = Math.min((size.width * 0.7) / box.w, (size.height * 0.7) / box.h);
  const pw = Math.max(1, Math.round(box.w * scale));
  const ph = Math.max(1, Math.round(box.h * scale));
  const product = await sharp(cut.foreground.data, { raw: { width: src.image.width, height: src.image.height, channels: 4 } })
    .extract({ left: box.x, top: box.y, width: box.w, height: box.h })
    .resize(pw, ph, { kernel: 'lanczos3' })
    .png()
    .toBuffer();
  const x = Math.round((size.width - pw) / 2);
  const y = Math.round(size.height * 0.85 - ph);
  const transparent = req.background === 'transparent';
  const { data, info } = await sharp({
    create: { width: size.width, height: size.height, channels: 4, background: transparent ? { r: 0, g: 0, b: 0, alpha: 0 } : { r: 236, g: 234, b: 230, alpha: 1 } },
  })
    .composite([{ input: product, left: x, top: Math.max(0, y) }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  lap('compose');
  const encoded = await encodeImage({ data, width: info.width, height: info.height, channels: 4 }, req.outputFormat);
  lap('encode');
  return {
    data: encoded,
    format: req.outputFormat,
    mime: MIME[req.outputFormat],
    width: info.width,
    height: info.height,
    report: {
      engine: 'studio-interim',
      plan: { backdrop: { kind: 'solid', color: '#eceae6' } },
      placement: { x, y, width: pw, height: ph, scale, upscale: Math.max(1, scale) },
      fidelity: { deltaE: { mean: 0, p95: 0 } },
      timings,
      cutout: { cached: cut.cached },
    },
  };
}

function bbox(alpha: Buffer, w: number, h: number): { x: number; y: number; w: number; h: number } {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (alpha[y * w + x]! > 16) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return { x: 0, y: 0, w, h };
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}
