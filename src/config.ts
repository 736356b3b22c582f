import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ENGINE_NAMES, MODELS, type EngineName } from './contract/models.js';

/**
 * The only file that reads the environment. Every setting is a `RESHOOT_*` variable; `reshoot serve`
 * flags are turned into the same names (see cli/commands/serve.ts) so there is one schema and one
 * set of messages.
 */

/** USD per image, e.g. 0.04 */
const usdPrice = z.string().trim().regex(/^\d+(\.\d+)?$/, 'must be USD per image, e.g. 0.04').transform(Number).pipe(z.number().max(1000));

/**
 * `ours=theirs,...`: the model a task names mapped to the model the hiapi upstream is asked for
 * (RESHOOT_HIAPI_UPSTREAM_MODELS), on top of DEFAULT_HIAPI_UPSTREAM_MODELS. Our side must be a model
 * this server serves; the upstream's is any name without spaces or commas.
 */
const upstreamModels = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const entry of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)\s*=\s*([^=\s]+)$/.exec(entry);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)}: expected ours=theirs, e.g. gpt-image-2-image-to-image-pro=gpt-image-2-image-to-image` });
      continue;
    }
    if (!Object.hasOwn(MODELS, m[1]!)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(m[1])}: not a model this server serves (${Object.keys(MODELS).join(', ')})` });
    else if (Object.hasOwn(out, m[1]!)) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(m[1])}: mapped twice` });
    else out[m[1]!] = m[2]!;
  }
  return out;
});

/**
 * What the hiapi upstream is asked for when RESHOOT_HIAPI_UPSTREAM_MODELS does not say: the same name,
 * except Pro, which the real hiapi retired (contract §14): Pro tasks are painted by its image-to-image
 * model (the layout is a single image, within every model's reference limit) and locked as usual.
 */
export const DEFAULT_HIAPI_UPSTREAM_MODELS: Readonly<Record<string, string>> = Object.freeze({
  'gpt-image-2-image-to-image-pro': 'gpt-image-2-image-to-image',
});

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(s), 'must be true or false')
  .transform((s) => ['1', 'true', 'yes', 'on'].includes(s));

export interface RateLimits {
  /** task creations per key per minute */
  createPerMinute: number;
  /** GET requests per key per minute */
  readPerMinute: number;
  /** requests in flight per key */
  concurrent: number;
}

/** `off`, or `create=60,read=300,concurrent=10` (any subset; missing parts keep their defaults). */
const rateLimit = z.string().transform((raw, ctx): RateLimits | null => {
  const s = raw.trim().toLowerCase();
  if (s === 'off' || s === 'false' || s === '0') return null;
  const out: RateLimits = { createPerMinute: 60, readPerMinute: 300, concurrent: 10 };
  if (s === '' || s === 'on' || s === 'default') return out;
  for (const part of s.split(',')) {
    const m = /^(create|read|concurrent)=(\d+)(?:\/min)?$/.exec(part.trim());
    if (!m || Number(m[2]) < 1) {
      ctx.addIssue({ code: 'custom', message: `expected "off" or e.g. "create=60,read=300,concurrent=10", got part "${part}"` });
      return z.NEVER;
    }
    const n = Number(m[2]);
    if (m[1] === 'create') out.createPerMinute = n;
    else if (m[1] === 'read') out.readPerMinute = n;
    else out.concurrent = n;
  }
  return out;
});

const schedule = z.string().transform((raw, ctx) => {
  const parts = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const nums = parts.map(Number);
  if (nums.some((n) => !Number.isFinite(n) || n < 0)) {
    ctx.addIssue({ code: 'custom', message: 'expected comma-separated non-negative seconds, e.g. "60,300,1200"' });
    return z.NEVER;
  }
  return nums;
});

const url = z
  .string()
  .trim()
  .refine((s) => /^https?:\/\/[^/]+/.test(s) && URL.canParse(s), 'must be an http(s) URL')
  .transform((s) => s.replace(/\/+$/, ''));

/** `s3://bucket` or `s3://bucket/prefix` → bucket and prefix (no slashes at either end) */
const s3Url = z.string().transform((raw, ctx) => {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'expected s3://bucket or s3://bucket/prefix (bucket: 3-63 lowercase letters, digits, dots, hyphens)' });
    return z.NEVER;
  }
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
});

/** `postgres://user:pass@host:port/db` (or `postgresql://`) */
const postgresUrl = z
  .string()
  .trim()
  .refine((s) => /^postgres(ql)?:\/\/./.test(s) && URL.canParse(s), 'must be a postgres://user:password@host:port/database URL');

/** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS) */
const redisUrl = z
  .string()
  .trim()
  .refine((s) => /^rediss?:\/\/./.test(s) && URL.canParse(s), 'must be a redis://[user:password@]host:port[/db] URL');

const secret = z.string().min(16, 'must be 16 to 256 characters').max(256, 'must be 16 to 256 characters');

const cores = Math.max(1, os.availableParallelism());

export { ENGINE_NAMES, type EngineName };

const EnvSchema = z.object({
  RESHOOT_HOST: z.string().min(1).prefault('127.0.0.1'),
  RESHOOT_PORT: int(0, 65535).prefault('8080'),
  RESHOOT_DATA_DIR: z.string().min(1).prefault('./data'),
  RESHOOT_PUBLIC_URL: url.optional(),
  RESHOOT_ROLE: z.enum(['all', 'api', 'worker']).prefault('all'),
  RESHOOT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
  RESHOOT_API_KEYS: csv.prefault(''),
  RESHOOT_WEBHOOK_SECRET: secret.optional(),
  RESHOOT_SIGNING_SECRET: secret.optional(),
  RESHOOT_RATE_LIMIT: rateLimit.prefault('create=60,read=300,concurrent=10'),
  RESHOOT_BODY_LIMIT_BYTES: int(1024).prefault(String(10 * 1024 * 1024)),
  RESHOOT_UPLOAD_LIMIT_BYTES: int(1024).prefault(String(20 * 1024 * 1024)),
  RESHOOT_QUEUE_MAX_DEPTH: int(1).prefault('1000'),
  RESHOOT_WORKER_CONCURRENCY: int(1, 64).prefault(String(cores)),
  RESHOOT_ENGINE_THREADS: int(1, 64).prefault(String(cores)),
  RESHOOT_JOB_LEASE_SECONDS: int(1).prefault('60'),
  RESHOOT_JOB_MAX_ATTEMPTS: int(1, 20).prefault('3'),
  RESHOOT_TASK_TIMEOUT_SECONDS: int(1).prefault('600'),
  RESHOOT_OUTPUT_TTL_SECONDS: int(1).prefault('604800'),
  RESHOOT_PERSISTENT_CAP_GB: z.coerce.number().min(0).prefault('100'),
  RESHOOT_IDEMPOTENCY_TTL_SECONDS: int(1).prefault('86400'),
  RESHOOT_FETCH_ALLOW_HOSTS: csv.prefault(''),
  RESHOOT_FETCH_MAX_BYTES: int(1).prefault(String(20 * 1024 * 1024)),
  RESHOOT_FETCH_TIMEOUT_MS: int(100).prefault('30000'),
  RESHOOT_FETCH_MAX_REDIRECTS: int(0, 10).prefault('3'),
  RESHOOT_MAX_INPUT_PIXELS: int(1).prefault(String(50_000_000)),
  RESHOOT_CALLBACK_RETRY_SCHEDULE: schedule.prefault('60,300,1200'),
  RESHOOT_CALLBACK_TIMEOUT_MS: int(100).prefault('10000'),
  RESHOOT_PRICING: z.string().optional(),
  RESHOOT_MASK_CACHE_MB: int(1).prefault('512'),
  RESHOOT_MIN_FREE_MB: int(0).prefault('100'),
  RESHOOT_MODEL_CACHE_DIR: z.string().optional(),
  RESHOOT_MODEL_PATH: z.string().refine((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true, 'must be an existing ONNX file').optional(),
  RESHOOT_MODEL_SIZE: int(256, 1024).refine((v) => v % 64 === 0, 'expected a multiple of 64').prefault('768'),
  RESHOOT_PRO_MODEL_SIZE: int(256, 1024).refine((v) => v % 64 === 0, 'expected a multiple of 64').prefault('1024'),
  RESHOOT_SCENE_MODEL_SIZE: int(256, 1024).refine((v) => v % 64 === 0, 'expected a multiple of 64').prefault('1024'),
  RESHOOT_WEB_DIR: z.string().optional(),
  RESHOOT_SCENES_DIR: z.string().refine((p) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true, 'must be an existing folder (of scene photos with .json sidecars)').optional(),
  RESHOOT_DEFAULT_ENGINE: z.enum(ENGINE_NAMES).prefault('studio'),
  RESHOOT_FALLBACK_ENGINE: z.enum(['off', 'studio']).prefault('off'),
  RESHOOT_HIAPI_UPSTREAM_URL: url.optional(),
  RESHOOT_HIAPI_UPSTREAM_KEY: z.string().trim().min(1).optional(),
  RESHOOT_HIAPI_UPSTREAM_MODELS: upstreamModels.optional(),
  RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET: secret.optional(),
  RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS: int(10, 600_000).prefault('30000'),
  RESHOOT_OPENAI_BASE_URL: url.optional(),
  RESHOOT_OPENAI_API_KEY: z.string().trim().min(1).optional(),
  RESHOOT_OPENAI_IMAGE_MODEL: z.string().trim().min(1).prefault('gpt-image-1'),
  RESHOOT_COMFYUI_URL: url.optional(),
  RESHOOT_COMFYUI_WORKFLOW: z.string().refine((p) => statSync(p, { throwIfNoEntry: false })?.isFile() === true, 'must be an existing API-format workflow JSON file').optional(),
  RESHOOT_UPSTREAM_POLL_MS: int(10, 600_000).prefault('3000'),
  RESHOOT_UPSTREAM_RETRY_BASE_MS: int(1, 60_000).prefault('500'),
  RESHOOT_HIAPI_UPSTREAM_PRICE: usdPrice.optional(),
  RESHOOT_OPENAI_UPSTREAM_PRICE: usdPrice.optional(),
  RESHOOT_COMFYUI_UPSTREAM_PRICE: usdPrice.optional(),
  RESHOOT_UPSTREAM_MARGIN: z.string().trim().regex(/^\d+(\.\d+)?$/, 'must be a fraction, e.g. 0.2 for 20%').transform(Number).pipe(z.number().max(10)).prefault('0'),
  RESHOOT_FIRST_KEY: bool.prefault('true'),
  RESHOOT_DATABASE_URL: postgresUrl.optional(),
  RESHOOT_QUEUE_URL: redisUrl.optional(),
  RESHOOT_BLOB_URL: s3Url.optional(),
  RESHOOT_S3_ENDPOINT: url.optional(),
  RESHOOT_S3_PUBLIC_ENDPOINT: url.optional(),
  RESHOOT_S3_REGION: z.string().trim().min(1).optional(),
  RESHOOT_S3_FORCE_PATH_STYLE: bool.optional(),
  RESHOOT_S3_PRESIGN: bool.optional(),
  // the SDK's default chain reads these (and profiles, instance roles) by itself; they are read here
  // too so that a config built from an explicit env (tests, `serve` flags) carries them
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_SESSION_TOKEN: z.string().optional(),
  AWS_REGION: z.string().optional(),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  role: 'all' | 'api' | 'worker';
  http: { host: string; port: number; publicUrl: string; /** false when publicUrl was derived from host and port */ publicUrlSet: boolean; bodyLimitBytes: number; uploadLimitBytes: number; webDir?: string };
  dataDir: string;
  /** below this much free space under the data dir, creates and uploads answer 503 and /readyz fails */
  minFreeBytes: number;
  log: { level: string };
  auth: { envKeys: string[]; createFirstKey: boolean };
  rateLimit: RateLimits | null;
  queue: { maxDepth: number; concurrency: number; leaseSeconds: number; maxAttempts: number; /** BullMQ on this Redis; unset: the job table in the store's database */ url?: string };
  tasks: {
    timeoutSeconds: number;
    outputTtlSeconds: number;
    idempotencyTtlSeconds: number;
    /** each key's room for persistent outputs; 0 turns persistent storage off */
    persistentCapBytes: number;
  };
  signing: { secret?: string };
  callbacks: { retryScheduleSeconds: number[]; timeoutMs: number; webhookSecret?: string };
  fetch: { allowHosts: string[]; maxBytes: number; timeoutMs: number; maxRedirects: number };
  engine: {
    threads: number;
    maxInputPixels: number;
    maskCacheBytes: number;
    /** where the optimised segmentation model is kept */
    modelCacheDir: string;
    /** the model's input side */
    modelSize: number;
    /** the model side the Pro model's cutouts use */
    proModelSize: number;
    /** the free model's side for a photo that is not on a plain backdrop */
    sceneModelSize: number;
    /** a segmentation model file with IS-Net's interface; unset: the IS-Net weights that ship with the package */
    modelPath?: string;
  };
  pricing?: string;
  /** the operator's scene library (src/scenes): a folder of set photographs with tag sidecars; unset: none */
  scenes: { dir?: string };
  /** which engine renders a task: the default route's, the upstreams configured, the fallback when one is down */
  engines: EnginesConfig;
  /** where tasks, keys and the job queue live: SQLite in the data dir (the default) or a Postgres server */
  database: { kind: 'sqlite' } | { kind: 'postgres'; url: string };
  /** where outputs, uploads and sources live: `<data dir>/blobs` or an S3-compatible bucket */
  blobs: { kind: 'local' } | S3BlobConfig;
}

export interface EnginesConfig {
  /** what `route` absent or `default` renders with */
  default: EngineName;
  /** renders with the studio when a generative upstream fails (and says so in the report); off by default */
  fallback: 'off' | 'studio';
  /**
   * models: the model a task names → the model the upstream is asked for (identity when absent);
   * callbackPollMs: the safety poll while the upstream's callback is awaited (RESHOOT_PUBLIC_URL set);
   * webhookSecret: the upstream account's webhook signing key, checked on its callbacks when set
   */
  hiapi?: { url: string; apiKey: string; models: Record<string, string>; callbackPollMs: number; webhookSecret?: string };
  openai?: { baseUrl: string; apiKey: string; model: string };
  comfyui?: { url: string; workflow: Record<string, unknown>; workflowPath: string };
  /** between polls of an upstream task */
  pollMs: number;
  /** the first backoff step of an upstream retry */
  retryBaseMs: number;
  /** what each configured upstream charges per image (unset: the model's own price row), and the margin charged on top */
  prices: { hiapi?: number; openai?: number; comfyui?: number; margin: number };
}

/** The engines this configuration can render with: the studio always, an upstream once it is configured. */
export function configuredEngines(engines: EnginesConfig): EngineName[] {
  return ENGINE_NAMES.filter((n) => n === 'studio' || engines[n] !== undefined);
}

export interface S3BlobConfig {
  kind: 's3';
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  publicEndpoint?: string;
  forcePathStyle: boolean;
  /** `/files/...` answers 302 to a presigned GET on the bucket instead of streaming the bytes */
  presign: boolean;
  /** unset: the SDK's default credential chain */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Parses `env` (process.env by default); reports every bad variable in one throw. */
export function loadConfig(env: Env = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '');
        // a database URL may carry a password: shown without it
        const shown = name === 'RESHOOT_DATABASE_URL' || name === 'RESHOOT_QUEUE_URL' ? (picked[name] ?? '').replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@') : (picked[name] ?? '');
        return `${name}=${JSON.stringify(shown)}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const s3Only = (['RESHOOT_S3_ENDPOINT', 'RESHOOT_S3_PUBLIC_ENDPOINT', 'RESHOOT_S3_REGION', 'RESHOOT_S3_FORCE_PATH_STYLE', 'RESHOOT_S3_PRESIGN'] as const).filter((k) => e[k] !== undefined);
  if (!e.RESHOOT_BLOB_URL && s3Only.length > 0) {
    throw new ConfigError(s3Only.map((k) => `${k}=${JSON.stringify(picked[k])}: only applies with RESHOOT_BLOB_URL=s3://bucket/prefix (blobs are on local disk)`));
  }
  if (e.RESHOOT_BLOB_URL && (e.AWS_ACCESS_KEY_ID === undefined) !== (e.AWS_SECRET_ACCESS_KEY === undefined)) {
    throw new ConfigError(['AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both or neither']);
  }
  const engines = enginesFrom(e);
  const host = e.RESHOOT_HOST;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const config: Config = {
    role: e.RESHOOT_ROLE,
    http: {
      host,
      port: e.RESHOOT_PORT,
      publicUrl: e.RESHOOT_PUBLIC_URL ?? `http://${shownHost}:${e.RESHOOT_PORT}`,
      publicUrlSet: e.RESHOOT_PUBLIC_URL !== undefined,
      bodyLimitBytes: e.RESHOOT_BODY_LIMIT_BYTES,
      uploadLimitBytes: e.RESHOOT_UPLOAD_LIMIT_BYTES,
      webDir: e.RESHOOT_WEB_DIR,
    },
    dataDir: path.resolve(e.RESHOOT_DATA_DIR),
    minFreeBytes: e.RESHOOT_MIN_FREE_MB * 1024 * 1024,
    log: { level: e.RESHOOT_LOG_LEVEL },
    auth: { envKeys: e.RESHOOT_API_KEYS, createFirstKey: e.RESHOOT_FIRST_KEY },
    rateLimit: e.RESHOOT_RATE_LIMIT,
    queue: {
      maxDepth: e.RESHOOT_QUEUE_MAX_DEPTH,
      concurrency: e.RESHOOT_WORKER_CONCURRENCY,
      leaseSeconds: e.RESHOOT_JOB_LEASE_SECONDS,
      maxAttempts: e.RESHOOT_JOB_MAX_ATTEMPTS,
      url: e.RESHOOT_QUEUE_URL,
    },
    tasks: {
      timeoutSeconds: e.RESHOOT_TASK_TIMEOUT_SECONDS,
      outputTtlSeconds: e.RESHOOT_OUTPUT_TTL_SECONDS,
      idempotencyTtlSeconds: e.RESHOOT_IDEMPOTENCY_TTL_SECONDS,
      persistentCapBytes: Math.round(e.RESHOOT_PERSISTENT_CAP_GB * 1024 ** 3),
    },
    signing: { secret: e.RESHOOT_SIGNING_SECRET },
    callbacks: {
      retryScheduleSeconds: e.RESHOOT_CALLBACK_RETRY_SCHEDULE,
      timeoutMs: e.RESHOOT_CALLBACK_TIMEOUT_MS,
      webhookSecret: e.RESHOOT_WEBHOOK_SECRET,
    },
    fetch: {
      allowHosts: e.RESHOOT_FETCH_ALLOW_HOSTS,
      maxBytes: e.RESHOOT_FETCH_MAX_BYTES,
      timeoutMs: e.RESHOOT_FETCH_TIMEOUT_MS,
      maxRedirects: e.RESHOOT_FETCH_MAX_REDIRECTS,
    },
    engine: {
      threads: e.RESHOOT_ENGINE_THREADS,
      maxInputPixels: e.RESHOOT_MAX_INPUT_PIXELS,
      maskCacheBytes: e.RESHOOT_MASK_CACHE_MB * 1024 * 1024,
      modelSize: e.RESHOOT_MODEL_SIZE,
      proModelSize: e.RESHOOT_PRO_MODEL_SIZE,
      sceneModelSize: e.RESHOOT_SCENE_MODEL_SIZE,
      modelPath: e.RESHOOT_MODEL_PATH === undefined ? undefined : path.resolve(e.RESHOOT_MODEL_PATH),
      modelCacheDir: path.resolve(e.RESHOOT_MODEL_CACHE_DIR ?? path.join(e.RESHOOT_DATA_DIR, 'cache', 'models')),
    },
    pricing: e.RESHOOT_PRICING,
    scenes: { dir: e.RESHOOT_SCENES_DIR === undefined ? undefined : path.resolve(e.RESHOOT_SCENES_DIR) },
    engines,
    database: e.RESHOOT_DATABASE_URL ? { kind: 'postgres', url: e.RESHOOT_DATABASE_URL } : { kind: 'sqlite' },
    blobs: e.RESHOOT_BLOB_URL
      ? {
          kind: 's3',
          ...e.RESHOOT_BLOB_URL,
          region: e.RESHOOT_S3_REGION ?? e.AWS_REGION ?? 'us-east-1',
          endpoint: e.RESHOOT_S3_ENDPOINT,
          publicEndpoint: e.RESHOOT_S3_PUBLIC_ENDPOINT,
          forcePathStyle: e.RESHOOT_S3_FORCE_PATH_STYLE ?? false,
          presign: e.RESHOOT_S3_PRESIGN ?? false,
          credentials:
            e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
              ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}) }
              : undefined,
        }
      : { kind: 'local' },
  };
  return deepFreeze(config);
}

/** The engine settings, each upstream only when fully configured; a half-configured one or a default no one configured is refused. */
function enginesFrom(e: z.infer<typeof EnvSchema>): EnginesConfig {
  const problems: string[] = [];
  const pair = (a: keyof typeof e, b: keyof typeof e): boolean => {
    if ((e[a] === undefined) !== (e[b] === undefined)) problems.push(`${a} and ${b}: set both or neither`);
    return e[a] !== undefined && e[b] !== undefined;
  };
  const engines: EnginesConfig = {
    default: e.RESHOOT_DEFAULT_ENGINE,
    fallback: e.RESHOOT_FALLBACK_ENGINE,
    pollMs: e.RESHOOT_UPSTREAM_POLL_MS,
    retryBaseMs: e.RESHOOT_UPSTREAM_RETRY_BASE_MS,
    prices: { margin: e.RESHOOT_UPSTREAM_MARGIN },
  };
  if (pair('RESHOOT_HIAPI_UPSTREAM_URL', 'RESHOOT_HIAPI_UPSTREAM_KEY')) {
    engines.hiapi = {
      url: e.RESHOOT_HIAPI_UPSTREAM_URL!, apiKey: e.RESHOOT_HIAPI_UPSTREAM_KEY!, models: { ...DEFAULT_HIAPI_UPSTREAM_MODELS, ...e.RESHOOT_HIAPI_UPSTREAM_MODELS },
      callbackPollMs: e.RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS,
      ...(e.RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET ? { webhookSecret: e.RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET } : {}),
    };
  } else {
    for (const name of ['RESHOOT_HIAPI_UPSTREAM_MODELS', 'RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET'] as const) {
      if (e[name] !== undefined) problems.push(`${name}: the hiapi engine is not configured (RESHOOT_HIAPI_UPSTREAM_URL and RESHOOT_HIAPI_UPSTREAM_KEY)`);
    }
  }
  if (pair('RESHOOT_OPENAI_BASE_URL', 'RESHOOT_OPENAI_API_KEY')) engines.openai = { baseUrl: e.RESHOOT_OPENAI_BASE_URL!, apiKey: e.RESHOOT_OPENAI_API_KEY!, model: e.RESHOOT_OPENAI_IMAGE_MODEL };
  if (pair('RESHOOT_COMFYUI_URL', 'RESHOOT_COMFYUI_WORKFLOW')) {
    const file = path.resolve(e.RESHOOT_COMFYUI_WORKFLOW!);
    let workflow: unknown;
    try {
      workflow = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      problems.push(`RESHOOT_COMFYUI_WORKFLOW=${JSON.stringify(e.RESHOOT_COMFYUI_WORKFLOW)}: not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (workflow !== undefined) {
      if (typeof workflow !== 'object' || workflow === null || Array.isArray(workflow)) problems.push(`RESHOOT_COMFYUI_WORKFLOW=${JSON.stringify(e.RESHOOT_COMFYUI_WORKFLOW)}: expected an API-format workflow (an object of nodes)`);
      else if (!JSON.stringify(workflow).includes('{{image}}')) problems.push(`RESHOOT_COMFYUI_WORKFLOW=${JSON.stringify(e.RESHOOT_COMFYUI_WORKFLOW)}: no "{{image}}" placeholder for the layout image`);
      else engines.comfyui = { url: e.RESHOOT_COMFYUI_URL!, workflow: workflow as Record<string, unknown>, workflowPath: file };
    }
  }
  const prices = { hiapi: e.RESHOOT_HIAPI_UPSTREAM_PRICE, openai: e.RESHOOT_OPENAI_UPSTREAM_PRICE, comfyui: e.RESHOOT_COMFYUI_UPSTREAM_PRICE };
  for (const [name, price] of Object.entries(prices) as Array<[keyof typeof prices, number | undefined]>) {
    if (price === undefined) continue;
    if (engines[name]) engines.prices[name] = price;
    else problems.push(`RESHOOT_${name.toUpperCase()}_UPSTREAM_PRICE: the ${name} engine is not configured, so nothing is priced with it`);
  }
  if (problems.length === 0 && !configuredEngines(engines).includes(engines.default)) {
    problems.push(`RESHOOT_DEFAULT_ENGINE=${JSON.stringify(e.RESHOOT_DEFAULT_ENGINE)}: that engine is not configured (configured: ${configuredEngines(engines).join(', ')})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return engines;
}

/**
 * What the engine needs from the config (the shape of the engine's EngineOptions), for the two places
 * that start one: the server's engine pool and the CLI's in-process engine.
 */
export function engineOptions(config: Config) {
  return {
    cacheDir: path.join(config.dataDir, 'cache', 'masks'),
    maskCacheBytes: config.engine.maskCacheBytes,
    modelCacheDir: config.engine.modelCacheDir,
    modelSize: config.engine.modelSize,
    proModelSize: config.engine.proModelSize,
    sceneModelSize: config.engine.sceneModelSize,
    modelPath: config.engine.modelPath,
    maxInputPixels: config.engine.maxInputPixels,
  };
}
