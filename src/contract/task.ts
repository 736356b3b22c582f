import { z } from 'zod';

/**
 * The task object on the wire (docs/contract.md §4-6), as zod schemas: the types below are inferred
 * from them, and the OpenAPI document (contract/openapi.ts) is generated from them, so the two cannot
 * drift. Field names are the contract's, not ours.
 */

export const TASK_STATUSES = ['queued', 'handling', 'archiving', 'success', 'fail'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL: ReadonlySet<string> = new Set(['success', 'fail']);

export const TaskOutputSchema = z.object({
  url: z.string().describe('directly downloadable, signed link'),
  type: z.literal('image'),
  expireAt: z.int().describe('Unix seconds after which the link stops working (4102444800 for persistent outputs)'),
});
export type TaskOutput = z.infer<typeof TaskOutputSchema>;

export const TaskErrorSchema = z.object({
  code: z.string().describe('TASK_FAILED, TASK_TIMEOUT or STORAGE_UNAVAILABLE'),
  message: z.string().describe('the reason, naming the reference when one is at fault'),
});
export type TaskError = z.infer<typeof TaskErrorSchema>;

/** Our extension, under the single top-level key `reshoot` (§16). */
export const ReshootExtensionSchema = z
  .looseObject({
    engine: z.string().optional(),
    plan: z.unknown().optional().describe('the scene plan the prompt was read into'),
    placement: z.unknown().optional().describe('where the product was placed in the frame'),
    fidelity: z.unknown().optional().describe('how far the product pixels moved from the source'),
    timings: z.record(z.string(), z.number()).optional().describe('milliseconds per stage'),
    cutout: z
      .object({ cached: z.boolean(), modelSize: z.int().optional(), mirrored: z.boolean().optional() })
      .optional()
      .describe('the matte: from the cache or not, and the quality setting that made it (model side, mirrored pass)'),
    warnings: z.array(z.string()).optional().describe('what the user should know about the result, e.g. a product enlarged more than 2x from its photo'),
    cost: z
      .object({
        usd: z.number().describe('what the key is charged for the task (0 once it failed)'),
        model: z.string(),
        engine: z.string().optional().describe('generative routes: the engine that renders the task'),
        upstreamUsd: z.number().optional().describe('generative routes: the upstream\'s price for the image, part of usd (which adds RESHOOT_UPSTREAM_MARGIN)'),
      })
      .optional(),
    lock: z
      .object({
        mode: z.enum(['strict', 'blend', 'off']),
        found: z.boolean().describe('whether the product was found in the upstream\'s frame'),
        transform: z.object({ dx: z.number(), dy: z.number(), scale: z.number(), rotation: z.number() }).describe('where the upstream put the product against the layout: centre shift in output pixels, scale, rotation in degrees'),
        score: z.number().describe('edge correlation at the transform, -1..1'),
        silhouetteIoU: z.number().describe('the upstream\'s product silhouette against ours after alignment; strict fails under 0.85'),
        deltaE: z.object({ before: z.number(), after: z.number() }).describe('mean ΔE76 inside the product against the source, in the upstream\'s frame and after the lock'),
      })
      .optional()
      .describe('generative routes: the product lock\'s figures'),
    upstream: z
      .object({
        engine: z.string(),
        taskId: z.string(),
        model: z.string().optional().describe('the model the upstream was asked for: hiapi maps the task\'s by RESHOOT_HIAPI_UPSTREAM_MODELS (Pro, retired upstream, to its image-to-image model by default)'),
        createAttempts: z.int().optional().describe('absent until the paint is over (a task still painting, or one that failed)'),
        replayed: z.boolean().optional().describe('the upstream answered the create as a replay of its Idempotency-Key'),
        resumed: z.boolean().optional().describe('true: a run after a restart polled the upstream task stored on the task instead of creating one'),
        callback: z.enum(['asked', 'received']).optional().describe('hiapi with RESHOOT_PUBLIC_URL: reshoot asked for the upstream\'s callback; `received` when the callback led to the answer (the upstream was asked at once), `asked` when a safety poll found it first'),
      })
      .optional()
      .describe('generative routes: the upstream task (stored as soon as the upstream created it, so it shows while the task paints and after a failure), its create attempts'),
    fallback: z
      .object({ from: z.string(), reason: z.string() })
      .optional()
      .describe('the generative engine asked for failed and the studio rendered instead (RESHOOT_FALLBACK_ENGINE=studio)'),
    mattes: z
      .array(z.object({ ref: z.int().describe('0-based index of the product reference'), width: z.int(), height: z.int() }))
      .optional()
      .describe('the mattes the products were cut out with, served as 8-bit grey PNGs by GET /v1/tasks/:id/matte?ref=N'),
    lineage: z
      .object({ parent: z.string(), turn: z.int(), root: z.string() })
      .optional()
      .describe("multi-turn edits: the parent task, this task's turn (the first task is turn 1) and the chain's first task"),
  })
  .describe("reshoot's extension; clients that do not know it ignore it");
export type ReshootExtension = z.infer<typeof ReshootExtensionSchema>;

export const TaskObjectSchema = z.object({
  taskId: z.string().describe('tk-hiapi- and a 26-character ULID'),
  model: z.string().describe('the model name sent at creation (name@route with a route)'),
  status: z.enum(TASK_STATUSES),
  created: z.int().describe('Unix seconds'),
  completed: z.int().describe('Unix seconds of the terminal transition; 0 until then'),
  storage: z.enum(['temp', 'persistent']),
  route: z.string().optional().describe('only when the create request set one'),
  output: z.array(TaskOutputSchema).optional().describe('only on success: exactly one image'),
  error: TaskErrorSchema.optional().describe('only on fail'),
  reshoot: ReshootExtensionSchema.optional(),
});
export type TaskObject = z.infer<typeof TaskObjectSchema>;

export const TaskListSchema = z.object({
  page: z.int(),
  size: z.int(),
  total: z.int(),
  tasks: z.array(TaskObjectSchema).describe('newest first'),
});
export type TaskList = z.infer<typeof TaskListSchema>;

export interface Envelope<T> {
  code: number;
  message: string;
  data: T;
  error_code?: string;
}
