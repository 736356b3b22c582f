import type { AspectRatio, Background, OutputFormat, Resolution, Tier } from '../contract/models.js';
import type { ReferenceRole } from '../contract/validate.js';
import type { SceneOverride } from '../contract/scene.js';
import type { Box } from './raster/types.js';

/**
 * What the worker hands the engine: plain data only (it crosses a worker-thread boundary).
 * References have already been fetched to local files by engine/inputs.
 */
export interface TransformRequest {
  tier: Tier;
  prompt: string;
  /** local file paths of the references, in input_urls order */
  sources: string[];
  aspectRatio: AspectRatio;
  resolution: Resolution;
  seed: number;
  scene?: SceneOverride;
  roles?: ReferenceRole[];
  background?: Background;
  outputFormat: OutputFormat;
  /** a plan to start from: another task's (`scene_from`) or the parent turn's (multi-turn edits) */
  basePlan?: unknown;
  /**
   * `reuse`: render basePlan as it is (scene_from: same scene, same light); `edit`: the prompt edits
   * basePlan ("make the light warmer", "now on white marble"). Ignored without basePlan.
   */
  planMode?: 'reuse' | 'edit';
  /** render with a generative upstream (the pipeline's `paint`) and lock the product; absent: the studio */
  generative?: GenerativeRequest;
  /**
   * a photo of the operator's scene library (src/scenes) that the prompt named by a tag, or that the
   * base plan was rendered into: the set, through the scene-photo recipe, unless a reference is a
   * scene photo or the background is transparent
   */
  libraryScene?: LibrarySceneRequest;
  /** also return each product reference's matte (TransformResult.mattes), for the worker to keep */
  keepMattes?: boolean;
}

/** A library scene as the engine takes it: a local copy of the photo, what it is, how the prompt named it. */
export interface LibrarySceneRequest {
  path: string;
  id: string;
  title: string;
  tag: string;
  /** the photo's content hash, recorded in the plan (scene_photo.library) */
  sha256: string;
  /** the tag's words in the prompt (absent when the scene comes from the base plan) */
  match?: { text: string; start: number; end: number };
  /** the sidecar's hints, fractions of the photo: the row products stand on, their centre, their height */
  placement?: { x?: number; y?: number; height?: number };
}

/** What a generative render needs besides the shot: which upstream, the lock, the model name it is sent, the job. */
export interface GenerativeRequest {
  /** the engine (route) that paints: hiapi, openai, comfyui */
  engine: string;
  lock: 'strict' | 'blend' | 'off';
  /** the model name the upstream is asked for (hiapi: the same model) */
  model: string;
  /** stable per task: the upstream's idempotency key and ComfyUI's prompt id come from it */
  jobKey: string;
  /** the upstream task an earlier run of this job created (stored on the task): polled instead of creating */
  upstreamTaskId?: string;
}

/** The product lock's figures (engine/lock's LockReport). */
export interface LockFigures {
  mode: 'strict' | 'blend' | 'off';
  found: boolean;
  /** where the upstream put the product against the layout: centre shift (output px), scale, rotation (degrees) */
  transform: { dx: number; dy: number; scale: number; rotation: number };
  score: number;
  silhouetteIoU: number;
  /** mean ΔE76 inside the product against the source, in the upstream's frame (before) and after the lock */
  deltaE: { before: number; after: number };
}

/** Which upstream painted the frame and how the call went. */
export interface UpstreamReport {
  engine: string;
  /** the upstream's task or prompt id ('' when the API has none, e.g. OpenAI) */
  taskId: string;
  createAttempts: number;
  replayed: boolean;
  /** the model the upstream was asked for (hiapi: the task's, mapped by RESHOOT_HIAPI_UPSTREAM_MODELS) */
  model?: string;
  /** an earlier run's upstream task (stored on the task) was polled instead of creating one */
  resumed?: boolean;
  /** hiapi asked for its callback: `received` when the callback led to the answer, `asked` when a safety poll found it first */
  callback?: 'asked' | 'received';
}

export interface Placement {
  /** the product's box in output pixels */
  x: number;
  y: number;
  width: number;
  height: number;
  /** output pixels per source pixel */
  scale: number;
  /** > 1 when the source product had to be enlarged */
  upscale: number;
}

export interface Fidelity {
  /** ΔE2000 between source product and placed product, after undoing the scale */
  deltaE: { mean: number; p95: number };
  /** the same with relighting turned off (the pure compositing error) */
  deltaEUnlit?: { mean: number; p95: number };
  /**
   * the headline, *product colour kept*: hue and chroma (ΔE2000 without its lightness term) of the
   * product as placed before the light, against the source
   */
  colourKept?: { mean: number; p95: number };
  /** *relight*: what the light changed on purpose (the lit product against the unlit one) */
  relight?: { applied: boolean; deltaE: { mean: number; p95: number }; lightness: number };
}

/** How the studio rendered a frame: Pro's extra quality is said here, not only priced. */
export interface RenderReport {
  quality: 'standard' | 'pro';
  /** the set's rendering scale against the output size (above 1: rendered larger and resized down) */
  sceneScale: number;
  supersampled: boolean;
  /** the set's scale against the free model's for the same output */
  sceneVsFree: number;
  lensBlur: 'none' | 'reduced-size HDR disc, upsampled' | 'full-size HDR disc';
  /** the environment photograph behind the set, and where the camera looked in it */
  environment?: { photo: string; yaw: number };
  description: string;
}

export interface TransformReport {
  engine: string;
  /** the studio recipe's render settings (absent for the scene photo and transparent recipes) */
  render?: RenderReport;
  plan: unknown;
  placement: Placement;
  fidelity: Fidelity;
  /** milliseconds per stage */
  timings: Record<string, number>;
  /** the matte came from the cache; the model side it was made at and the mirrored pass */
  cutout?: { cached: boolean; modelSize?: number; mirrored?: boolean };
  /** what the user should know about the result (a product enlarged more than 2× from its photo) */
  warnings?: string[];
  /** generative engines: the product lock's figures */
  lock?: LockFigures;
  /** generative engines: the upstream that painted the frame */
  upstream?: UpstreamReport;
  /** the generative engine asked for failed and the studio rendered instead (RESHOOT_FALLBACK_ENGINE=studio) */
  fallback?: { from: string; reason: string };
}

export interface TransformResult {
  data: Uint8Array;
  format: OutputFormat;
  mime: string;
  width: number;
  height: number;
  /**
   * With `keepMattes`: the matte each product reference was cut out with, an 8-bit grey PNG at the
   * reference's working size (its own, unless it is over the pipeline's WORKING_PIXELS); `ref` is its
   * 0-based index in `sources`.
   */
  mattes?: Array<{ ref: number; width: number; height: number; png: Uint8Array }>;
  report: TransformReport;
}

/** Options the engine is built with; plain data so every pool thread can build its own. */
export interface EngineOptions {
  /** where the mask cache lives (inside the data dir) */
  cacheDir: string;
  maskCacheBytes: number;
  /** where the optimised segmentation model is kept between processes (see cutout/session.ts) */
  modelCacheDir?: string;
  /** the segmentation model's input side (a multiple of 64, 256..1024); default 768 */
  modelSize?: number;
  /** the free model's side for a photo that is not on a plain backdrop; default: modelSize */
  sceneModelSize?: number;
  /** the side the Pro model's cutouts use, with a mirrored pass averaged in (its quality setting); default: modelSize */
  proModelSize?: number;
  /** a segmentation model file to load instead of the shipped IS-Net weights (see cutout/session.ts) */
  modelPath?: string;
  maxInputPixels: number;
  /** sharp threads per engine thread */
  sharpConcurrency?: number;
}

/** Where the product lands in the frame and the camera that goes with it (compose/framing.ts computes it). */
export interface Camera {
  /** top-down flat lay: orthographic, no horizon */
  topDown: boolean;
  /** row of the vanishing line (may lie above the frame) */
  vanishY: number;
  /** row where the surface ends and the backdrop begins (sweep curve or table edge) */
  edgeY: number;
  /** focal length in output pixels */
  focal: number;
  /** depth of the product's base in product heights */
  baseDepth: number;
}

export interface Layout {
  width: number;
  height: number;
  /** scene working size and its scale relative to the output */
  work: { width: number; height: number; scale: number };
  /** the product's alpha bounding box in output pixels */
  product: Box;
  /** output pixels per source pixel */
  scale: number;
  /** > 1 when the source product is enlarged */
  upscale: number;
  /** row of the product's base (its lowest opaque row) and its centre column */
  baseY: number;
  centerX: number;
  camera: Camera;
}

/** Shadow masks over the working frame (light/shadows.ts computes them, the scene renders them). */
export interface ShadowMasks {
  /** 0..1 how much of the key light is blocked, full working frame */
  cast: Float32Array | null;
  /** 0..1 contact darkening (blocks ambient and key) */
  contact: Float32Array | null;
  /** 0..1 broad ambient occlusion around the base */
  occlusion: Float32Array | null;
}
