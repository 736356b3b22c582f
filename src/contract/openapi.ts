import { z } from 'zod';
import { ERRORS, ERROR_CODES } from './errors.js';
import { TASK_ID_RE } from './ids.js';
import { BACKGROUNDS, LOCK_MODES, MODELS, OUTPUT_FORMATS, ROUTES, type ModelSpec } from './models.js';
import { SceneOverrideSchema } from './scene.js';
import { SceneListSchema } from './scenes.js';
import { ServedModelSchema } from './served-models.js';
import { TaskListSchema, TaskObjectSchema } from './task.js';
import { MAX_CALLBACK_URL_LENGTH, MAX_PROMPT_CODE_POINTS, REFERENCE_ROLES } from './validate.js';

/**
 * The wire contract as an OpenAPI 3.1 document, served at `GET /openapi.json` and rendered at
 * `GET /docs/api`. Every schema is zod, turned into JSON Schema by zod itself: the response shapes
 * are the schemas the task types are inferred from (contract/task.ts), and a create body per model is
 * built from the model registry and the limits validateCreateBody enforces (a test holds the validator
 * and these schemas to the same verdicts). Cross-field rules that JSON Schema cannot say are in the
 * descriptions.
 */

/**
 * The create body one model accepts, field by field (unknown fields are ignored, as documented).
 * `routes`: the routes the serving server accepts (`default` and its configured engines); every
 * route any server may accept when left out.
 */
export function createBodySchema(spec: ModelSpec, routes: readonly string[] = ROUTES) {
  const names = Object.values(MODELS)
    .filter((m) => m.canonical === spec.canonical && m.rules === spec.rules)
    .map((m) => m.name);
  const urls = z
    .array(z.string().describe('an http(s) URL, or a data:image/(jpeg|png|webp);base64, URI'))
    .min(spec.minRefs)
    .max(spec.maxRefs);
  return z
    .object({
      model: z.enum(names as [string, ...string[]]).describe('the legacy spelling name@route is read as the route'),
      input: z.looseObject({
        prompt: z.string().min(1).max(MAX_PROMPT_CODE_POINTS).describe(`1 to ${MAX_PROMPT_CODE_POINTS} Unicode code points, not only whitespace`),
        input_urls: urls.describe(`${spec.minRefs} to ${spec.maxRefs} references`),
        aspect_ratio: z.enum(spec.aspectRatios as [string, ...string[]]).default(spec.defaultAspectRatio),
        resolution: z.enum(spec.resolutions as [string, ...string[]]).default(spec.defaultResolution),
        seed: z.int().min(0).max(0xffffffff).optional(),
        scene: SceneOverrideSchema.optional().describe('explicit scene settings on top of what the prompt says'),
        background: z.enum(BACKGROUNDS).optional(),
        output_format: z.enum(OUTPUT_FORMATS).optional().describe('png by default; jpeg cannot be transparent'),
        roles: z.array(z.enum(REFERENCE_ROLES)).max(spec.maxRefs).optional().describe('one per input_urls entry, at most as many'),
        scene_from: z.string().regex(TASK_ID_RE).optional().describe("a successful task of this key whose scene is reused"),
        lock: z.enum(LOCK_MODES).optional().describe('generative routes: strict (the default) pastes the photographed product back and fails the task when the upstream changed its silhouette; blend pastes it back and never fails; off keeps the upstream\'s pixels. The studio ignores it'),
      }),
      callback: z
        .object({ url: z.string().max(MAX_CALLBACK_URL_LENGTH).describe('an http(s) URL outside this host and its network'), when: z.literal('final').optional() })
        .nullable()
        .optional(),
      route: z.enum([...routes, '']).optional().describe('the engine: default (the server\'s RESHOOT_DEFAULT_ENGINE), studio, or a generative upstream (hiapi, openai, comfyui); a server accepts only the engines it has configured (listed here and in GET /v1/models) and lists them when refusing one'),
      storage: z.enum(['temp', 'persistent']).optional(),
    })
    .describe(`${names.join(' / ')}: ${spec.description} Cross-field rules: ${crossFieldRules(spec)}`);
}

function crossFieldRules(spec: ModelSpec): string {
  switch (spec.rules) {
    case 'classic':
      return 'aspect_ratio auto (the default) only with resolution 1K; 1:1 not at 4K.';
    case 'slashed':
      return 'aspect_ratio auto only with 1K; no 2K for 5:4, 4:5, 3:1, 1:3, 9:21; no 4K for 3:1, 1:3, 9:21; background only at 1K.';
    case 'pro':
      return 'none.';
  }
}

const envelope = <T extends z.ZodType>(data: T) => z.object({ code: z.literal(200), message: z.literal('success'), data });

const ErrorEnvelopeSchema = z.object({
  code: z.int().describe('the HTTP status'),
  message: z.string(),
  data: z.null(),
  error_code: z.enum(ERROR_CODES),
});

const StorageBatchSchema = z.object({
  accepted: z.array(z.string()),
  rejected: z.array(z.object({ id: z.string(), reason: z.enum(['not_owned', 'insufficient', 'cap_exceeded', 'not_promotable', 'already_deleted']) })),
});
const OutputIdsSchema = z.array(z.string()).min(1).max(50).describe('output ids from GET /v1/storages');

/** A schema as OpenAPI 3.1 embeds it: JSON Schema 2020-12, without the `$schema` line each would repeat. */
function json(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });
  return rest;
}
const content = (schema: z.ZodType) => ({ 'application/json': { schema: json(schema) } });

/** The errors an operation can answer, by status, all in the error envelope. */
function errors(...codes: Array<keyof typeof ERRORS>) {
  const out: Record<string, unknown> = {};
  for (const code of codes) {
    const status = String(ERRORS[code]);
    const prev = out[status] as { description: string } | undefined;
    out[status] = { description: prev ? `${prev.description}, ${code}` : code, content: content(ErrorEnvelopeSchema) };
  }
  return out;
}

const paging = [
  { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 }, description: 'out-of-range values become the default' },
  { name: 'size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 10 }, description: 'out-of-range values become the default' },
];

/**
 * The OpenAPI 3.1 document of the API as this server serves it. `routes`: the routes it accepts
 * (`default` and the engines it configured), so `route` lists only those.
 */
export function openApiDocument(version: string, opts: { routes?: readonly string[] } = {}): Record<string, unknown> {
  const bodies = Object.values(MODELS)
    .filter((m, i, all) => all.findIndex((o) => o.canonical === m.canonical && o.rules === m.rules) === i)
    .map((m) => json(createBodySchema(m, opts.routes)));
  const common = errors('UNAUTHORIZED', 'RATE_LIMITED', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE');
  return {
    openapi: '3.1.0',
    info: {
      title: 'reshoot',
      version,
      description:
        "Product-photo transforms behind hiapi's unified async task API: create a task, poll it or take a signed callback, download output[].url. docs/contract.md in the repository is the contract in prose.",
    },
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key: reshoot keys create' } } },
    paths: {
      '/v1/tasks': {
        post: {
          summary: 'Create a task; answers with its taskId at once',
          parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'replays within 24 h answer the same taskId with Idempotent-Replay: true' }],
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: bodies } } } },
          responses: {
            200: { description: 'created (or replayed)', content: content(envelope(z.object({ taskId: z.string() }))) },
            ...errors('INVALID_REQUEST', 'INSUFFICIENT_BALANCE', 'IDEMPOTENCY_KEY_PROCESSING', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'IDEMPOTENCY_KEY_MISMATCH', 'STORAGE_UNAVAILABLE'),
            ...common,
          },
        },
        get: {
          summary: "The caller's tasks, newest first",
          parameters: paging,
          responses: { 200: { description: 'a page of tasks', content: content(envelope(TaskListSchema)) }, ...common },
        },
      },
      '/v1/tasks/{id}': {
        get: {
          summary: 'One task: its status, its output on success, its error on fail',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: TASK_ID_RE.source } }],
          responses: { 200: { description: 'the task (a failed task is still HTTP 200)', content: content(envelope(TaskObjectSchema)) }, ...errors('NOT_FOUND'), ...common },
        },
      },
      '/v1/tasks/{id}/matte': {
        get: {
          summary: 'reshoot: the matte a render cut a product reference out with, an 8-bit grey PNG at the reference\'s size (reshoot.mattes lists them)',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: TASK_ID_RE.source } },
            { name: 'ref', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 99, default: 0 }, description: "the reference's 0-based index" },
          ],
          responses: { 200: { description: 'the matte', content: { 'image/png': {} } }, ...errors('INVALID_REQUEST', 'NOT_FOUND', 'STORAGE_UNAVAILABLE'), ...common },
        },
      },
      '/v1/tasks/{id}/source': {
        get: {
          summary: 'reshoot: a reference as the render read it (for a later turn, the first turn\'s photo)',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: TASK_ID_RE.source } },
            { name: 'ref', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 99, default: 0 }, description: "the reference's 0-based index" },
          ],
          responses: { 200: { description: 'the image, in its own format', content: { 'image/*': {} } }, ...errors('INVALID_REQUEST', 'NOT_FOUND', 'STORAGE_UNAVAILABLE'), ...common },
        },
      },
      '/v1/uploads': {
        post: {
          summary: 'Upload one image (multipart/form-data, field file); answers a URL for input_urls',
          requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } }, required: ['file'] } } } },
          responses: {
            200: { description: 'stored', content: content(envelope(z.object({ url: z.string(), expireAt: z.int(), width: z.int(), height: z.int(), bytes: z.int() }))) },
            ...errors('INVALID_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'STORAGE_UNAVAILABLE'),
            ...common,
          },
        },
      },
      '/v1/storages': {
        get: {
          summary: "The caller's outputs with their storage tier",
          parameters: paging,
          responses: {
            200: {
              description: 'a page of outputs',
              content: content(
                envelope(
                  z.object({
                    page: z.int(),
                    size: z.int(),
                    total: z.int(),
                    items: z.array(
                      z.object({ id: z.string(), task_id: z.string(), model: z.string(), url: z.string(), type: z.literal('image'), storage_tier: z.enum(['temp', 'persistent']), bytes: z.int().nullable(), created: z.int(), expireAt: z.int() }),
                    ),
                  }),
                ),
              ),
            },
            ...common,
          },
        },
      },
      '/v1/storages/promote': {
        post: {
          summary: 'Keep outputs until they are deleted',
          requestBody: { required: true, content: content(OutputIdsSchema) },
          responses: { 200: { description: 'per id', content: content(envelope(StorageBatchSchema)) }, ...errors('INVALID_REQUEST'), ...common },
        },
      },
      '/v1/storages/delete': {
        post: {
          summary: 'Delete outputs now',
          requestBody: { required: true, content: content(OutputIdsSchema) },
          responses: { 200: { description: 'per id', content: content(envelope(StorageBatchSchema)) }, ...errors('INVALID_REQUEST'), ...common },
        },
      },
      '/v1/models': {
        get: {
          summary: 'The served models with their limits, prices and the routes this server accepts',
          responses: { 200: { description: 'the models', content: content(envelope(z.array(ServedModelSchema))) }, ...common },
        },
      },
      '/v1/scenes': {
        get: {
          summary: "reshoot: the operator's scene library (RESHOOT_SCENES_DIR); a prompt naming one of a scene's tags renders into that photo",
          responses: { 200: { description: 'the scenes (an empty list without a library)', content: content(envelope(SceneListSchema)) }, ...errors('STORAGE_UNAVAILABLE'), ...common },
        },
      },
      '/v1/usage': {
        get: {
          summary: 'Tasks and USD by model and day for the calling key',
          parameters: [
            { name: 'from', in: 'query', schema: { type: 'string' }, description: 'a date (YYYY-MM-DD) or Unix seconds' },
            { name: 'to', in: 'query', schema: { type: 'string' } },
          ],
          responses: { 200: { description: 'usage' }, ...common },
        },
      },
      '/api/pricing': { get: { summary: "Price rows in hiapi's shape", security: [], responses: { 200: { description: 'the rows' } } } },
      '/files/{key}': {
        get: {
          summary: 'Download an output or upload through its signed link (no key needed)',
          security: [],
          parameters: [
            { name: 'key', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'expires', in: 'query', required: true, schema: { type: 'integer' } },
            { name: 'sig', in: 'query', required: true, schema: { type: 'string' } },
          ],
          responses: { 200: { description: 'the file (ETag, ranges)' }, ...errors('FORBIDDEN', 'NOT_FOUND') },
        },
      },
      '/upstream/hiapi/callback/{taskId}': {
        post: {
          summary: "The hiapi upstream's final callback for a generative task (served when the hiapi engine is configured; no key needed)",
          description:
            "reshoot hands this URL to the hiapi upstream as `callback.url` when RESHOOT_PUBLIC_URL is set. The `t` token is an HMAC of the task id under the server's signing secret; with RESHOOT_HIAPI_UPSTREAM_WEBHOOK_SECRET the X-HiAPI-Timestamp and X-HiAPI-Signature headers must also be good (contract §9, 300 s skew). The body (hiapi's bare task object) is never taken for the result: a good callback only wakes the poller, which asks the upstream. Duplicates are answered 200 and do nothing.",
          security: [],
          parameters: [
            { name: 'taskId', in: 'path', required: true, schema: { type: 'string' }, description: "reshoot's task id" },
            { name: 't', in: 'query', required: true, schema: { type: 'string' } },
            { name: 'X-HiAPI-Timestamp', in: 'header', required: false, schema: { type: 'string' } },
            { name: 'X-HiAPI-Signature', in: 'header', required: false, schema: { type: 'string' } },
          ],
          requestBody: { content: { 'application/json': { schema: { type: 'object', description: "hiapi's task object, without the envelope" } } } },
          responses: {
            200: {
              description: '`data: { taskId, outcome }`, outcome `accepted` (the poller woken), `duplicate`, `finished` (the task is over) or `other_upstream_task`: only `accepted` does anything',
            },
            ...errors('INVALID_REQUEST', 'UNAUTHORIZED', 'NOT_FOUND'),
          },
        },
      },
    },
  };
}
