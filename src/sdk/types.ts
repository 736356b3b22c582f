import type { AspectRatio, Background, LockModeName, OutputFormat, PRO_ASPECT_RATIOS, Resolution } from '../contract/models.js';
import type { PriceRow } from '../contract/pricing.js';
import type { SceneOverride } from '../contract/scene.js';
import type { TaskObject } from '../contract/task.js';
import type { ReferenceRole } from '../contract/validate.js';

export type { AspectRatio, Background, OutputFormat, Resolution } from '../contract/models.js';
export type { SceneOverride } from '../contract/scene.js';
export type { ServedModel, ServedRoutes } from '../contract/served-models.js';
export type { LibrarySceneInfo } from '../contract/scenes.js';
export type { Envelope, ReshootExtension, TaskError, TaskList, TaskObject, TaskOutput, TaskStatus } from '../contract/task.js';
export type { ReferenceRole } from '../contract/validate.js';

/** The 11 ratios the Pro models take (no 2:1, 1:2, 3:1, 1:3, 9:21). */
export type ProAspectRatio = (typeof PRO_ASPECT_RATIOS)[number];

/** Fields every image-to-image model takes; `seed` onwards are reshoot extensions (contract §16). */
interface ImageInputBase {
  /** what to do with the product; up to 20000 characters */
  prompt: string;
  /** reference images: http(s) URLs or `data:image/...;base64,` URIs */
  input_urls: readonly string[];
  /** reshoot: same inputs + same seed give the same bytes */
  seed?: number;
  /** reshoot: explicit scene settings that win over the prompt */
  scene?: SceneOverride;
  /** reshoot: `transparent` keeps only the product */
  background?: Background;
  /** reshoot: png (default), jpeg or webp */
  output_format?: OutputFormat;
  /** reshoot: what each reference is, in input_urls order */
  roles?: readonly ReferenceRole[];
  /** reshoot: reuse the scene plan of an earlier task */
  scene_from?: string;
  /** reshoot, generative routes: strict (default) fails a task whose product the upstream reshaped, blend never fails, off keeps the upstream's pixels */
  lock?: LockModeName;
}

/**
 * `gpt-image-2-image-to-image` and `gpt-image-2/image-to-image`: 1-16 references, 16 ratios,
 * 1K/2K/4K. `auto` (the default ratio) needs 1K; the hyphenated name also refuses 1:1 at 4K.
 */
export interface ImageToImageInput extends ImageInputBase {
  aspect_ratio?: AspectRatio;
  resolution?: Resolution;
}

/** `gpt-image-2-image-to-image-pro`: 1-5 references, 11 ratios, 1K/2K, no cross-field rules. */
export interface ImageToImageProInput extends ImageInputBase {
  aspect_ratio?: ProAspectRatio;
  resolution?: '1K' | '2K';
}

/** `gpt-image-2` and `gpt-image-2/text-to-image` on hiapi itself (reshoot does not serve them). */
export interface TextToImageInput {
  prompt: string;
  aspect_ratio?: AspectRatio;
  resolution?: Resolution;
}

/** `gpt-image-2-pro` on hiapi itself: 10 ratios (no `auto`), 1K/2K. */
export interface TextToImageProInput {
  prompt: string;
  aspect_ratio?: Exclude<ProAspectRatio, 'auto'>;
  resolution?: '1K' | '2K';
}

/** Model name → the `input` it takes. `tasks.create` is typed by this map. */
export interface ModelInputs {
  'gpt-image-2-image-to-image': ImageToImageInput;
  'gpt-image-2/image-to-image': ImageToImageInput;
  'gpt-image-2-image-to-image-pro': ImageToImageProInput;
  'gpt-image-2': TextToImageInput;
  'gpt-image-2/text-to-image': TextToImageInput;
  'gpt-image-2-pro': TextToImageProInput;
}
export type ModelName = keyof ModelInputs;

export interface ClientOptions {
  /** server root, with or without the trailing `/v1`: `https://api.hiapi.ai`, `http://127.0.0.1:8080/v1` */
  baseUrl: string;
  /** sent as `Authorization: Bearer <apiKey>` */
  apiKey: string;
  /** per HTTP attempt; default 60000 */
  timeoutMs?: number;
  /** retries after the first attempt for 429, 503, 409-in-flight and safe network failures; default 3 */
  maxRetries?: number;
  /** first backoff step when the server sent no Retry-After; default 500 ms, doubling with jitter */
  retryBaseMs?: number;
  /** a fetch implementation (tests, proxies); default the global fetch */
  fetch?: typeof fetch;
  /** extra `User-Agent` text */
  userAgent?: string;
}

export interface RequestOptions {
  /** cancels the request and any retry wait */
  signal?: AbortSignal;
}

export interface CreateOptions extends RequestOptions {
  /** `{ url }` to receive the signed terminal task; `when` is always `final` */
  callback?: { url: string; when?: 'final' };
  /** reused across retries; the client makes one when you give none, so a lost answer is safe to retry */
  idempotencyKey?: string;
  /** top-level `route`: `default`, `studio`, `hiapi`, `openai` or `comfyui` (the engines the server configured); left out when empty so replays stay byte-identical */
  route?: string;
  /** top-level `storage` */
  storage?: 'temp' | 'persistent';
}

export interface CreatedTask {
  taskId: string;
  /** the key the request was sent with */
  idempotencyKey: string;
  /** true when the server answered with `Idempotent-Replay: true` (no new task was made) */
  replayed: boolean;
  requestId: string | undefined;
}

export interface WaitOptions extends RequestOptions {
  /** between polls; default 3000 */
  intervalMs?: number;
  /** overall deadline; default 600000 (the Python SDK's 600 s) */
  timeoutMs?: number;
  /** called with the task whenever its status changes (the first poll included) */
  onStatus?: (task: TaskObject) => void;
}

export interface ListOptions extends RequestOptions {
  page?: number;
  size?: number;
}

export interface UploadOptions extends RequestOptions {
  /** the name sent in the multipart part; default the file's base name or `upload` */
  filename?: string;
  /** default: sniffed from the bytes (PNG, JPEG, WebP, AVIF, TIFF) */
  contentType?: string;
}

export interface DownloadResult {
  /** bytes written */
  bytes: number;
  contentType: string | undefined;
  /** the file written, when a path was given */
  path?: string;
}

export interface TransformOptions extends CreateOptions, Omit<WaitOptions, 'signal'> {
  /** where to write `output[0]`: a file path or a writable stream; leave out to get the bytes back */
  out?: string | NodeJS.WritableStream;
}

export interface TransformResultRemote {
  task: TaskObject;
  /** the downloaded image, when no `out` was given */
  data?: Uint8Array;
  download: DownloadResult;
}

/** One row of `GET /api/pricing` (contract §12); `priceFor` prices an input from these rows. */
export type PricingRow = PriceRow;
