import type { TransformRequest } from '../engine/types.js';
import type { Tier } from './models.js';
import type { TaskInput } from './validate.js';

/** What a render adds to the task's input: where the references are now, the seed, the plan it starts from. */
export interface RenderContext {
  tier: Tier;
  /** local file paths of the references, in input_urls order */
  sources: string[];
  seed: number;
  /** another task's plan (`scene_from`: reuse) or the parent turn's (a multi-turn edit) */
  base?: { plan: unknown; mode: 'reuse' | 'edit' };
}

/**
 * The seed a render gets when its input names none: stable for a key (the task id on the server, the
 * item's inputs in the CLI), so a re-run after a crash or an interrupted batch renders the same bytes.
 * FNV-1a over the key's UTF-16 code units.
 */
export function defaultSeed(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * The engine request for a checked task input, the same for a task the worker runs and a local
 * `reshoot transform` or `batch`: the output format defaults to png, and fields the input leaves
 * out stay out so the engine applies its own defaults.
 */
export function transformRequest(
  input: Pick<TaskInput, 'prompt' | 'aspect_ratio' | 'resolution' | 'scene' | 'roles' | 'background' | 'output_format'>,
  run: RenderContext,
): TransformRequest {
  const req: TransformRequest = {
    tier: run.tier,
    prompt: input.prompt,
    sources: run.sources,
    aspectRatio: input.aspect_ratio,
    resolution: input.resolution,
    seed: run.seed,
    outputFormat: input.output_format ?? 'png',
  };
  if (input.scene) req.scene = input.scene;
  if (input.roles) req.roles = input.roles;
  if (input.background) req.background = input.background;
  if (run.base) {
    req.basePlan = run.base.plan;
    req.planMode = run.base.mode;
  }
  return req;
}
