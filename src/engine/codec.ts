import sharpLib, { type Metadata, type OverlayOptions, type Sharp } from 'sharp';
import type { OutputFormat } from '../contract/models.js';
import type { Box, Raster8, Rgb8, Rgba8 } from './raster/types.js';

/**
 * The one module that imports sharp: decode, probe, encode, resize, blur, composite and SVG
 * rasterisation on typed rasters, each one libvips pipeline with the native settings in one place.
 * Decoding is strict (`failOn: 'error'`), bounded in pixels and time, honours EXIF orientation and
 * lands in sRGB; everything downstream works on raw pixels.
 */

export interface DecodeOptions {
  maxPixels: number;
  /**
   * A larger image is decoded straight to this many pixels (same ratio): the working copy a render
   * needs, without ever holding the full frame (JPEG and WebP shrink while they load).
   */
  workingPixels?: number;
  timeoutSeconds?: number;
}

export interface DecodedImage {
  /** RGBA, oriented, sRGB */
  image: Rgba8;
  /** the file declared an alpha channel */
  hasAlpha: boolean;
  format: string;
}

export class ImageDecodeError extends Error {
  /** the file that failed, when decoding from a path (lets the worker name the reference) */
  source?: string;
  constructor(message: string, opts?: ErrorOptions & { source?: string }) {
    super(message, opts);
    this.name = 'ImageDecodeError';
    this.source = opts?.source;
  }
}

let initialised = false;
/** Process-wide libvips knobs, set from config once, when the engine starts (never at import time). */
export function initCodec(opts: { concurrency?: number; cacheMb?: number } = {}): void {
  if (initialised) return;
  initialised = true;
  if (opts.concurrency !== undefined) sharpLib.concurrency(opts.concurrency);
  sharpLib.cache(opts.cacheMb === undefined ? false : { memory: opts.cacheMb, files: 0, items: 100 });
}

const SUPPORTED = new Set(['jpeg', 'png', 'webp', 'avif', 'heif', 'tiff', 'gif']);

/** Decodes any supported image to oriented sRGB RGBA. Throws ImageDecodeError with a readable reason. */
export async function decodeImage(input: Buffer | string, opts: DecodeOptions): Promise<DecodedImage> {
  try {
    return await decodeStrict(input, opts);
  } catch (err) {
    if (err instanceof ImageDecodeError && typeof input === 'string') err.source = input;
    throw err;
  }
}

/** A reference whose short side is under this is refused: too small to be a product photo. */
export const MIN_IMAGE_SIDE = 64;

/**
 * The header checks every reference passes before its pixels are touched: not empty, a supported
 * format, under the pixel limit, not too small. Returns the header.
 */
async function checkedMetadata(input: Buffer | string, maxPixels: number): Promise<Metadata & { format: string; width: number; height: number }> {
  if (Buffer.isBuffer(input) && input.length === 0) throw new ImageDecodeError('the file is empty (0 bytes)');
  if (Buffer.isBuffer(input) && looksLikeMarkup(input)) {
    // Refused before any parser sees it: SVG can name external files and expand entities.
    throw new ImageDecodeError('unsupported image format: SVG, XML or HTML text; expected JPEG, PNG, WebP, AVIF, TIFF or GIF');
  }
  let meta: Metadata;
  try {
    meta = await sharpLib(input, { failOn: 'error', limitInputPixels: maxPixels }).metadata();
  } catch (err) {
    throw new ImageDecodeError(`not a decodable image (${shortReason(err)})`, { cause: err });
  }
  if (!meta.format || !SUPPORTED.has(meta.format)) {
    throw new ImageDecodeError(`unsupported image format ${meta.format ?? 'unknown'}; expected JPEG, PNG, WebP, AVIF, TIFF or GIF`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > maxPixels) {
    throw new ImageDecodeError(`image is ${w}x${h} = ${(w * h / 1e6).toFixed(1)} MP, over the ${(maxPixels / 1e6).toFixed(0)} MP limit`);
  }
  if (Math.min(w, h) < MIN_IMAGE_SIDE) {
    throw new ImageDecodeError(`image is ${w}x${h}: too small to be a product photo (the short side must be at least ${MIN_IMAGE_SIDE} px)`);
  }
  return { ...meta, format: meta.format, width: w, height: h };
}

/** Text that opens with `<` (after an optional BOM and whitespace): markup, never a raster image. */
function looksLikeMarkup(bytes: Buffer): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && i < 1024 && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x3c;
}

async function decodeStrict(input: Buffer | string, opts: DecodeOptions): Promise<DecodedImage> {
  const meta = await checkedMetadata(input, opts.maxPixels);
  try {
    let pipeline = sharpLib(input, { failOn: 'error', limitInputPixels: opts.maxPixels })
      .timeout({ seconds: opts.timeoutSeconds ?? 60 })
      .rotate();
    const pixels = meta.width * meta.height;
    if (opts.workingPixels !== undefined && pixels > opts.workingPixels) {
      const scale = Math.sqrt(opts.workingPixels / pixels);
      const oriented = (meta.orientation ?? 1) >= 5 ? { w: meta.height, h: meta.width } : { w: meta.width, h: meta.height };
      pipeline = pipeline.resize(Math.floor(oriented.w * scale), Math.floor(oriented.h * scale), { fit: 'inside', kernel: 'lanczos3' });
    }
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      image: { data, width: info.width, height: info.height, channels: 4 },
      hasAlpha: meta.hasAlpha === true,
      format: meta.format,
    };
  } catch (err) {
    throw new ImageDecodeError(`image could not be decoded (${shortReason(err)})`, { cause: err });
  }
}

/**
 * A library's reason, short and without file names: libvips puts the path of the file it read in
 * its messages, and a client must never see this server's paths.
 */
function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg
    .split('\n')[0]!
    .replace(/^Input (buffer|file) /, '')
    .replace(/(?:[A-Za-z]:)?[\\/][^\s:"']*[\\/][^\s:"']*:?\s*/g, '')
    .trim()
    .slice(0, 200);
}

export interface EncodeOptions {
  quality?: number;
}

export const MIME: Record<OutputFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Encodes raw pixels; PNG is lossless, JPEG/WebP at high quality for catalogue use. */
export async function encodeImage(img: Raster8, format: OutputFormat, opts: EncodeOptions = {}): Promise<Buffer> {
  const s = sharpLib(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  switch (format) {
    case 'png':
      // A one-channel raw image (a matte) stays one channel instead of being widened to sRGB.
      // zlib level 3: the same pixels, a studio frame 1–9% larger than at 6 in half the time
      // (at 1K 56 -> 30 ms); the film grain leaves little for the slower levels to find.
      return (img.channels === 1 ? s.toColourspace('b-w') : s).png({ compressionLevel: 3, adaptiveFiltering: false }).toBuffer();
    case 'jpeg':
      return s.flatten({ background: '#ffffff' }).jpeg({ quality: opts.quality ?? 92, mozjpeg: true, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'webp':
      return s.webp({ quality: opts.quality ?? 92, alphaQuality: 100 }).toBuffer();
  }
}

/**
 * Checks an image as a reference before it is accepted (an upload, a downloaded `input_urls` entry):
 * the header checks of a decode, then every pixel decoded at a reduced size, so a truncated or
 * corrupt file is refused now and not when a render starts. Memory stays small: JPEG and WebP shrink
 * while they load.
 */
export async function checkImage(input: Buffer, maxPixels: number): Promise<{ format: string; width: number; height: number }> {
  const meta = await checkedMetadata(input, maxPixels);
  try {
    await sharpLib(input, { failOn: 'error', limitInputPixels: maxPixels })
      .timeout({ seconds: 60 })
      .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer();
  } catch (err) {
    throw new ImageDecodeError(`image could not be decoded (${shortReason(err)})`, { cause: err });
  }
  return { format: meta.format, width: meta.width, height: meta.height };
}

/** Reads only the header (no pixels, no checks): format, size and whether it declares alpha. */
export async function probeImage(input: Buffer): Promise<{ format: string | undefined; width: number; height: number; hasAlpha: boolean }> {
  const meta = await sharpLib(input).metadata();
  return { format: meta.format, width: meta.width ?? 0, height: meta.height ?? 0, hasAlpha: meta.hasAlpha === true };
}

const raw = (img: Raster8) => ({ raw: { width: img.width, height: img.height, channels: img.channels } });

/** The pipeline's raw pixels; `channels` 1 keeps one band (libvips would hand a grey image back as sRGB). */
async function pixels<T extends Raster8>(s: Sharp, channels?: number): Promise<T> {
  const { data, info } = await (channels === 1 ? s.extractChannel(0) : s).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels } as T;
}

export type Kernel = 'lanczos3' | 'cubic';

export interface ResizeOptions {
  /** default lanczos3 */
  kernel?: Kernel;
  /** Gaussian blur of this sigma after resizing, in the same pass (RGBA stays premultiplied between the two) */
  blur?: number;
}

/**
 * Resamples a raster to width × height. RGBA is resampled premultiplied, so transparent pixels do
 * not bleed their colour into the edge.
 */
export async function resize<T extends Raster8>(img: T, width: number, height: number, opts: ResizeOptions = {}): Promise<T> {
  let s = sharpLib(img.data, raw(img)).resize(width, height, { fit: 'fill', kernel: opts.kernel ?? 'lanczos3' });
  if (opts.blur !== undefined) s = s.blur(opts.blur);
  return pixels<T>(s, img.channels);
}

/**
 * Resamples an RGBA raster to any size (lanczos3) as if it were opaque: its alpha is ignored and comes
 * back 255 (the segmentation model's input). sharp resamples an image that has an alpha channel
 * premultiplied, in floating point, and one without in its integer path at a fifth of the time (24 MP
 * to 1024x1024: 105 ms against 22); on an opaque image the two agree to the bit (codec.test). So the
 * colour planes are copied out once, on the first call, and the alpha is put back at the small size:
 * 76 ms instead of 107 at 24 MP, 42 instead of 51 at 12 MP. The copy (three bytes a pixel) lives as
 * long as the returned function.
 */
export function opaqueResizer(img: Rgba8): (width: number, height: number) => Promise<Rgba8> {
  let colour: Promise<Buffer> | null = null;
  return async (width, height) => {
    colour ??= sharpLib(img.data, raw(img)).removeAlpha().raw().toBuffer();
    const rgb = sharpLib(await colour, { raw: { width: img.width, height: img.height, channels: 3 } });
    return pixels<Rgba8>(rgb.resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).ensureAlpha());
  };
}

/** The image without its alpha, cover-fitted to width × height (lanczos3): a photo used as the set. */
export async function coverRgb(img: Raster8, width: number, height: number): Promise<Rgb8> {
  return pixels<Rgb8>(sharpLib(img.data, raw(img)).removeAlpha().resize(width, height, { fit: 'cover', kernel: 'lanczos3' }));
}

/** An RGB copy (alpha dropped) resampled to width × height (lanczos3). */
export async function resizeRgb(img: Raster8, width: number, height: number): Promise<Rgb8> {
  return pixels<Rgb8>(sharpLib(img.data, raw(img)).removeAlpha().resize(width, height, { fit: 'fill' }));
}

/** An RGBA copy (opaque alpha added where there is none) resampled to width × height (lanczos3). */
export async function resizeRgba(img: Raster8, width: number, height: number): Promise<Rgba8> {
  return pixels<Rgba8>(sharpLib(img.data, raw(img)).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).ensureAlpha());
}

/** One channel of a resized RGBA raster (the alpha of a product resampled premultiplied, as resize() does). */
export async function resizeChannel(img: Rgba8, channel: 0 | 1 | 2 | 3, width: number, height: number, region?: Box): Promise<Raster8<1>> {
  let s = sharpLib(img.data, raw(img));
  if (region) s = s.extract({ left: region.x, top: region.y, width: region.width, height: region.height });
  return pixels<Raster8<1>>(s.resize(width, height, { fit: 'fill' }).extractChannel(channel));
}

/** Gaussian blur (sigma in pixels); RGBA is blurred premultiplied. */
export async function blur<T extends Raster8>(img: T, sigma: number): Promise<T> {
  return pixels<T>(sharpLib(img.data, raw(img)).blur(sigma), img.channels);
}

export interface Layer {
  image: Raster8;
  /** top-left corner on the base; default 0, 0 */
  left?: number;
  top?: number;
  /** default over */
  blend?: 'over' | 'screen' | 'overlay';
  /** repeat the image over the whole base */
  tile?: boolean;
}

/**
 * Layers blended onto a base in order. The result has the base's channels: an RGB base stays RGB,
 * an RGBA base keeps its alpha. A base given only as a size is transparent.
 */
export async function composite<T extends Rgb8 | Rgba8>(base: T, layers: Layer[]): Promise<T>;
export async function composite(base: { width: number; height: number }, layers: Layer[]): Promise<Rgba8>;
export async function composite(base: Raster8 | { width: number; height: number }, layers: Layer[]): Promise<Raster8> {
  const overlays: OverlayOptions[] = layers.map((l) => ({ input: l.image.data, ...raw(l.image), left: l.left, top: l.top, blend: l.blend, tile: l.tile }));
  const s = 'data' in base
    ? sharpLib(base.data, raw(base))
    : sharpLib({ create: { width: base.width, height: base.height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } });
  const out = s.composite(overlays);
  return pixels('data' in base && base.channels === 3 ? out.removeAlpha() : out);
}

export interface SvgOptions {
  width: number;
  height: number;
  /** 4: RGBA, 3: RGB (alpha dropped), 1: grey */
  channels: 1 | 3 | 4;
  /** resampling from the SVG's own size to width × height; default lanczos3 */
  kernel?: Kernel;
  /** Gaussian blur of this sigma at the output size */
  blur?: number;
}

/** Rasterises SVG markup we wrote ourselves (never user input) to width × height. */
export async function rasteriseSvg(svg: string, o: SvgOptions): Promise<Raster8> {
  let s = sharpLib(Buffer.from(svg)).resize(o.width, o.height, { fit: 'fill', kernel: o.kernel ?? 'lanczos3' });
  if (o.channels === 4) s = s.ensureAlpha();
  else if (o.channels === 3) s = s.removeAlpha();
  else s = s.greyscale();
  if (o.blur !== undefined) s = s.blur(o.blur);
  return pixels(s, o.channels);
}
