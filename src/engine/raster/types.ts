/**
 * Typed rasters: pixels with their size, so no signature passes a bare buffer beside a width and a
 * height. Pure data (no codec): 8-bit rasters are interleaved and sRGB unless a stage says otherwise;
 * fields are one float per pixel.
 */

/** 8-bit interleaved pixels, `channels` per pixel, row-major. */
export interface Raster8<C extends 1 | 2 | 3 | 4 = 1 | 2 | 3 | 4> {
  data: Buffer;
  width: number;
  height: number;
  channels: C;
}

export type Rgba8 = Raster8<4>;
export type Rgb8 = Raster8<3>;
/** one byte per pixel: a matte, a shade, a silhouette */
export type Mask8 = Raster8<1>;

/** one float per pixel (light patterns, shadow masks, noise) */
export interface Field32 {
  data: Float32Array;
  width: number;
  height: number;
}

/** a rectangle in pixels */
export interface Box { x: number; y: number; width: number; height: number }

export const rgba8 = (data: Buffer, width: number, height: number): Rgba8 => ({ data, width, height, channels: 4 });
export const rgb8 = (data: Buffer, width: number, height: number): Rgb8 => ({ data, width, height, channels: 3 });
export const mask8 = (data: Buffer, width: number, height: number): Mask8 => ({ data, width, height, channels: 1 });
