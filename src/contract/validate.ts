import { AppError } from './errors.js';
import {
  BACKGROUNDS,
  LOCK_MODES,
  MODEL_NAMES,
  MODELS,
  OUTPUT_FORMATS,
  ROUTES,
  comboProblem,
  type AspectRatio,
  type Background,
  type LockModeName,
  type ModelSpec,
  type OutputFormat,
  type Resolution,
} from './models.js';
import { SceneOverrideSchema, type SceneOverride } from './scene.js';
import { TASK_ID_RE } from './ids.js';

/** A create request after validation: defaults filled in, names resolved. */
export interface CreateTaskRequest {
  /** the model name as the client sent it (echoed in the task object) */
  modelName: string;
  spec: ModelSpec;
  input: TaskInput;
  callback?: { url: string; when: 'final' };
  route?: string;
  storage: 'temp' | 'persistent';
}

export const REFERENCE_ROLES = ['product', 'scene', 'style'] as const;
export type ReferenceRole = (typeof REFERENCE_ROLES)[number];

export interface TaskInput {
  prompt: string;
  input_urls: string[];
  aspect_ratio: AspectRatio;
  resolution: Resolution;
  seed?: number;
  scene?: SceneOverride;
  background?: Background;
  output_format?: OutputFormat;
  roles?: ReferenceRole[];
  scene_from?: string;
  /** what the product lock does with a generative engine's frame (strict by default; the studio ignores it) */
  lock?: LockModeName;
}

export const MAX_PROMPT_CODE_POINTS = 20000;
export const MAX_CALLBACK_URL_LENGTH = 2048;
const DATA_URI_RE = /^data:image\/(jpeg|jpg|png|webp|avif|tiff);base64,[A-Za-z0-9+/=\s]+$/;

const bad = (field: string, problem: string): AppError => new AppError('INVALID_REQUEST', `${field}: ${problem}`);
const list = (values: readonly string[]) => values.join(', ');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

export function isHttpUrl(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const u = new URL(s);
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
}

export function isImageDataUri(s: string): boolean {
  return DATA_URI_RE.test(s);
}

function enumField<T extends string>(input: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T;
function enumField<T extends string>(input: Record<string, unknown>, key: string, allowed: readonly T[]): T | undefined;
function enumField<T extends string>(input: Record<string, unknown>, key: string, allowed: readonly T[], fallback?: T): T | undefined {
  const v = input[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw bad(`input.${key}`, `must be one of ${list(allowed)} (received ${describe(v)})`);
  }
  return v as T;
}

export interface ValidateOptions {
  /** extra check for callback targets (the address guard); returns a problem or null */
  checkCallbackUrl?: (url: URL) => string | null;
  persistentStorage?: boolean;
  /** the routes this server serves (`default` and its configured engines); every known route when unset (the SDK and CLI check) */
  routes?: readonly string[];
}

/**
 * Checks a `POST /v1/tasks` body against every rule the contract lists, synchronously.
 * Throws AppError INVALID_REQUEST whose message names the field and the allowed values.
 */
export function validateCreateBody(body: unknown, opts: ValidateOptions = {}): CreateTaskRequest {
  if (!isObject(body)) throw bad('body', `expected a JSON object (received ${describe(body)})`);

  if (typeof body.model !== 'string' || body.model === '') {
    throw bad('model', `is required; served models: ${list(MODEL_NAMES)}`);
  }
  // The legacy spelling `name@route` (§15) names the route inside the model.
  const at = body.model.indexOf('@');
  const modelName = at < 0 ? body.model : body.model.slice(0, at);
  const spec = MODELS[modelName];
  if (!spec) throw bad('model', `unknown model ${JSON.stringify(modelName)}; served models: ${list(MODEL_NAMES)}`);

  const routeInModel = at < 0 ? undefined : body.model.slice(at + 1);
  if (routeInModel !== undefined && body.route !== undefined && body.route !== routeInModel) {
    throw bad('route', `${describe(body.route)} contradicts the route in model ${JSON.stringify(body.model)}`);
  }
  const givenRoute = routeInModel ?? body.route;
  let route: string | undefined;
  if (givenRoute !== undefined) {
    const served = opts.routes ?? ROUTES;
    if (typeof givenRoute !== 'string' || (givenRoute !== '' && !served.includes(givenRoute))) {
      const known = typeof givenRoute === 'string' && (ROUTES as readonly string[]).includes(givenRoute);
      throw bad('route', `${known ? `route ${describe(givenRoute)} is not configured on this server` : `unknown route ${describe(givenRoute)}`}; valid routes: ${list(served)} (or leave it out)`);
    }
    route = givenRoute === '' ? undefined : givenRoute;
  }

  let storage: 'temp' | 'persistent' = 'temp';
  if (body.storage !== undefined) {
    if (body.storage !== 'temp' && body.storage !== 'persistent') {
      throw bad('storage', `must be one of temp, persistent (received ${describe(body.storage)})`);
    }
    // D17: without persistent storage configured, fall back to temp and report temp.
    storage = body.storage === 'persistent' && opts.persistentStorage ? 'persistent' : 'temp';
  }

  let callback: CreateTaskRequest['callback'];
  // `callback: null` is sent by clients that serialise an unset option: it means no callback.
  if (body.callback !== undefined && body.callback !== null) {
    const cb = body.callback;
    if (!isObject(cb)) throw bad('callback', `must be an object { url, when } (received ${describe(cb)})`);
    if (typeof cb.url !== 'string' || !isHttpUrl(cb.url)) {
      throw bad('callback.url', `must be an http(s) URL (received ${describe(cb.url)})`);
    }
    if (cb.url.length > MAX_CALLBACK_URL_LENGTH) throw bad('callback.url', `must be at most ${MAX_CALLBACK_URL_LENGTH} characters`);
    if (cb.when !== undefined && cb.when !== 'final') throw bad('callback.when', `must be final (received ${describe(cb.when)})`);
    const problem = opts.checkCallbackUrl?.(new URL(cb.url));
    if (problem) throw bad('callback.url', problem);
    callback = { url: cb.url, when: 'final' };
  }

  const input = body.input;
  if (!isObject(input)) throw bad('input', `is required and must be an object (received ${describe(input)})`);
  if (input.callback !== undefined) throw bad('input.callback', 'callback belongs at the top level of the body, not inside input');

  const prompt = input.prompt;
  if (typeof prompt !== 'string') throw bad('input.prompt', `is required and must be a string (received ${describe(prompt)})`);
  if (prompt.trim() === '') throw bad('input.prompt', 'must not be empty or whitespace');
  const codePoints = [...prompt].length;
  if (codePoints > MAX_PROMPT_CODE_POINTS) {
    throw bad('input.prompt', `must be at most ${MAX_PROMPT_CODE_POINTS} characters (received ${codePoints})`);
  }

  const urls = input.input_urls;
  if (!Array.isArray(urls)) throw bad('input.input_urls', `is required and must be an array of ${spec.minRefs}-${spec.maxRefs} image URLs`);
  if (urls.length < spec.minRefs || urls.length > spec.maxRefs) {
    throw bad('input.input_urls', `${modelName} takes ${spec.minRefs} to ${spec.maxRefs} URLs (received ${urls.length})`);
  }
  urls.forEach((u, i) => {
    if (typeof u !== 'string' || !(isHttpUrl(u) || isImageDataUri(u))) {
      const shown = typeof u === 'string' ? JSON.stringify(u.length > 80 ? `${u.slice(0, 80)}…` : u) : describe(u);
      throw bad(`input.input_urls[${i}]`, `must be an http(s) URL or a data:image/(jpeg|png|webp);base64, URI (received ${shown})`);
    }
  });

  const aspect_ratio = enumField(input, 'aspect_ratio', spec.aspectRatios, spec.defaultAspectRatio);
  const resolution = enumField(input, 'resolution', spec.resolutions, spec.defaultResolution);
  const combo = comboProblem(spec, aspect_ratio, resolution);
  if (combo) {
    const field = input.resolution === undefined && input.aspect_ratio !== undefined ? 'input.aspect_ratio' : 'input.resolution';
    const defaulted = input.aspect_ratio === undefined ? ' (aspect_ratio defaults to auto; set one explicitly)' : '';
    throw bad(field, `${combo}${defaulted}`);
  }

  const out: TaskInput = { prompt, input_urls: urls as string[], aspect_ratio, resolution };

  if (input.seed !== undefined) {
    if (typeof input.seed !== 'number' || !Number.isInteger(input.seed) || input.seed < 0 || input.seed > 0xffffffff) {
      throw bad('input.seed', `must be an integer from 0 to 4294967295 (received ${describe(input.seed)})`);
    }
    out.seed = input.seed;
  }
  if (input.scene !== undefined) {
    const parsed = SceneOverrideSchema.safeParse(input.scene);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = ['input.scene', ...issue.path.map(String)].join('.');
      throw bad(where, issue.message);
    }
    out.scene = parsed.data;
  }
  const background = enumField(input, 'background', BACKGROUNDS);
  if (background !== undefined) {
    if (spec.rules === 'slashed' && resolution !== '1K') throw bad('input.background', 'is only allowed with resolution 1K');
    out.background = background;
  }
  const format = enumField(input, 'output_format', OUTPUT_FORMATS);
  if (format !== undefined) {
    if (format === 'jpeg' && background === 'transparent') {
      throw bad('input.output_format', 'jpeg has no alpha channel; use png or webp with background transparent');
    }
    out.output_format = format;
  }
  if (input.roles !== undefined) {
    const roles = input.roles;
    if (!Array.isArray(roles) || roles.length > urls.length) {
      throw bad('input.roles', `must be an array of at most ${urls.length} roles (one per input_urls entry)`);
    }
    roles.forEach((r, i) => {
      if (!REFERENCE_ROLES.includes(r as ReferenceRole)) {
        throw bad(`input.roles[${i}]`, `must be one of ${list(REFERENCE_ROLES)} (received ${describe(r)})`);
      }
    });
    out.roles = roles as ReferenceRole[];
  }
  if (input.scene_from !== undefined) {
    if (typeof input.scene_from !== 'string' || !TASK_ID_RE.test(input.scene_from)) {
      throw bad('input.scene_from', `must be a task id (tk-hiapi-...) (received ${describe(input.scene_from)})`);
    }
    out.scene_from = input.scene_from;
  }

  const lock = enumField(input, 'lock', LOCK_MODES);
  if (lock !== undefined) out.lock = lock;

  const req: CreateTaskRequest = { modelName, spec, input: out, storage };
  if (callback) req.callback = callback;
  if (route !== undefined) req.route = route;
  return req;
}
