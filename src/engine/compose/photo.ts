import type { ScenePlan } from '../../contract/scene.js';
import type { Box } from '../raster/types.js';
import type { Layout, ShadowMasks } from '../types.js';
import { composeFrame } from './index.js';
import { relightProduct } from '../light/relight.js';
import { computeShadows } from '../light/shadows.js';
import { resize, resizeChannel } from '../codec.js';
import { mask8, rgb8, rgba8, type Rgb8 } from '../raster/types.js';
import type { SceneReading } from '../refs/analyze.js';
import type { Group } from '../refs/group.js';

/**
 * A product (or group) placed into the user's scene photo: the photo, cover-fitted, is the set;
 * the product stands on the surface row read from it, scaled to the scene, relit by the photo's
 * light and matched to its exposure (one gain on all channels: hue kept), with contact and cast
 * shadows thrown away from that light and multiplied into the photo.
 */

const POSITION_X: Record<ScenePlan['framing']['position'], number> = { center: 0.5, left: 0.38, right: 0.62, 'left-third': 1 / 3, 'right-third': 2 / 3 };
const WORK_LONG = 1440;

export interface PhotoInput {
  plan: ScenePlan;
  /** the photo, cover-fitted to the output size */
  backdrop: Rgb8;
  reading: SceneReading;
  group: Group;
  seed: number;
}

export interface PhotoResult { frame: Rgb8; layout: Layout; product: Buffer; unlit: Buffer }

/** Merges several products' shadow masks (each product casts its own). */
function maxInto(into: Float32Array | null, add: Float32Array | null): Float32Array | null {
  if (!add) return into;
  if (!into) return add;
  for (let i = 0; i < into.length; i++) if (add[i]! > into[i]!) into[i] = add[i]!;
  return into;
}

export async function composeIntoPhoto(p: PhotoInput): Promise<PhotoResult> {
  const { plan, reading, group } = p;
  const { width: W, height: H } = p.backdrop;
  const place = plan.placement ?? {};
  const baseY = Math.round((place.y ?? reading.baseRow) * H);
  // the product's height: as asked, else the framing size scaled down for a real room, never
  // reaching above the frame's top margin
  let ph = (place.height ?? Math.min(0.8, plan.framing.size * 0.6)) * H;
  ph = Math.min(ph, baseY - H * 0.04);
  let scale = ph / group.height;
  if (group.width * scale > W * 0.9) scale = (W * 0.9) / group.width;
  const pw = Math.max(1, Math.round(group.width * scale));
  ph = Math.max(1, Math.round(group.height * scale));
  let cx = (place.x ?? POSITION_X[plan.framing.position]) * W;
  cx = Math.min(W - pw / 2 - W * 0.02, Math.max(pw / 2 + W * 0.02, cx));
  const box: Box = { x: Math.round(cx - pw / 2), y: baseY - ph, width: pw, height: ph };
  const backY = reading.backEdge * H;
  const vanishY = Math.min(backY, baseY - 8) - 0.16 * H;
  const focal = 1.7 * Math.max(W, H);
  const layout: Layout = {
    width: W, height: H, work: { width: W, height: H, scale: 1 }, product: box, scale, upscale: Math.max(1, scale),
    baseY, centerX: box.x + pw / 2, camera: { topDown: false, vanishY, edgeY: backY, focal, baseDepth: focal / ph },
  };

  const { data: unlit } = await resize(group, pw, ph);
  // exposure: a studio packshot is brighter than most rooms; follow the photo at half strength
  const gain = Math.min(1.1, Math.max(0.7, Math.sqrt(reading.light.luminance / 0.62)));
  const product = plan.light.relight_product
    ? relightProduct(rgba8(unlit, pw, ph), { light: plan.light, exposure: Math.max(-1, Math.min(1, 2 * Math.log2(gain))), pattern: null })
    : unlit;

  // shadows at a working size, one product at a time
  const ws = Math.min(1, WORK_LONG / Math.max(W, H));
  const ww = Math.max(16, Math.round(W * ws));
  const wh = Math.max(16, Math.round(H * ws));
  const masks: ShadowMasks = { cast: null, contact: null, occlusion: null };
  const gs = scale * ws;
  for (const b of group.boxes) {
    const w = Math.max(1, Math.round(b.width * gs));
    const h = Math.max(1, Math.round(b.height * gs));
    const { data: crop } = await resizeChannel(group, 3, w, h, b);
    const m = await computeShadows(plan, { width: ww, height: wh, baseY: baseY * ws, foreshorten: (baseY - vanishY) / focal, topDown: false }, {
      alpha: new Uint8Array(crop.buffer, crop.byteOffset, crop.length), x: Math.round(box.x * ws + b.x * gs), y: Math.round(box.y * ws + b.y * gs), w, h,
    });
    masks.cast = maxInto(masks.cast, m.cast);
    masks.contact = maxInto(masks.contact, m.contact);
    masks.occlusion = maxInto(masks.occlusion, m.occlusion);
  }
  const shade = Buffer.alloc(ww * wh);
  const keyShare = 0.55 + 0.35 * plan.light.contrast;
  for (let i = 0; i < ww * wh; i++) {
    const v = (1 - (masks.cast?.[i] ?? 0) * plan.shadow.opacity * keyShare) * (1 - (masks.contact?.[i] ?? 0) * 0.72) * (1 - (masks.occlusion?.[i] ?? 0) * 0.3);
    shade[i] = Math.round(Math.max(0, Math.min(1, v)) * 255);
  }
  const { data: shadeFull } = await resize(mask8(shade, ww, wh), W, H, { kernel: 'cubic' });
  const scene = Buffer.from(p.backdrop.data);
  for (let i = 0; i < W * H; i++) {
    const m = shadeFull[i]! / 255;
    if (m >= 0.999) continue;
    // shadows in a lit room keep a little of the ambient's colour: blue falls off least
    scene[i * 3] = Math.round(scene[i * 3]! * m);
    scene[i * 3 + 1] = Math.round(scene[i * 3 + 1]! * (m * 0.98 + 0.02));
    scene[i * 3 + 2] = Math.round(scene[i * 3 + 2]! * (m * 0.94 + 0.06));
  }
  const frame = await composeFrame({ layout, scene: rgb8(scene, W, H), product: rgba8(product, pw, ph), front: null, grain: plan.grade.grain * 0.5, seed: p.seed, grainOverProduct: plan.light.relight_product });
  return { frame, layout, product, unlit };
}
