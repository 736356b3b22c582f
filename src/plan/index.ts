import { SceneOverrideSchema, ScenePlanSchema, type SceneOverride, type ScenePlan } from '../contract/scene.js';
import { mergePlan } from './merge.js';
import { readPrompt } from './parse.js';
import { resolvePlan } from './resolve.js';
import type { Draft } from './vocabulary.js';

/**
 * prompt → ScenePlan. Pure TypeScript without Node imports: the web studio bundles this module to
 * show, as the user types, which words were understood.
 */

export { ScenePlanSchema, SceneOverrideSchema, type ScenePlan, type SceneOverride };
export { mergePlan } from './merge.js';
export { tokenize, readPrompt } from './parse.js';
export { nearestDirection } from './resolve.js';
export { DIRECTIONS, MATERIALS } from './presets.js';

export interface PlanOptions {
  /** explicit settings (input.scene / --scene); validated here, they win over the prompt */
  scene?: unknown;
}

export class ScenePlanError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ScenePlanError';
  }
}

/** Checks an `input.scene` value; throws ScenePlanError naming the path of the first problem. */
export function parseSceneOverride(scene: unknown): SceneOverride {
  const r = SceneOverrideSchema.safeParse(scene);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ScenePlanError(['scene', ...issue.path.map(String)].join('.'), issue.message);
}

/**
 * Reads the prompt into a complete, validated ScenePlan. `opts.scene` (a partial plan) is merged
 * over what the prompt said before presets fill the rest, so derived values follow it
 * (`{light:{from:"right"}}` also moves the azimuth and the shadow).
 */
export function planScene(prompt: string, opts: PlanOptions = {}): ScenePlan {
  const reading = readPrompt(prompt);
  const override = opts.scene === undefined ? undefined : parseSceneOverride(opts.scene);
  const draft: Draft = mergePlan(reading.draft, override ?? {});
  // An explicit angle without a word: the word follows the angle, not the prompt.
  if (override?.light?.azimuth !== undefined && override.light.from === undefined) delete draft.light.from;
  if (override?.light && (override.light.from !== undefined || override.light.azimuth !== undefined) && override.shadow?.direction === undefined) {
    delete draft.shadow.direction;
  }
  const plan: ScenePlan = {
    version: 1,
    ...resolvePlan(draft, reading.impliedMaterial),
    product: { description: reading.product },
    words: { understood: reading.understood, unused: reading.unused },
    ...(Object.keys(draft.placement).length > 0 ? { placement: draft.placement } : {}),
  };
  return ScenePlanSchema.parse(plan);
}
export { editPlan, diffPlans, type PlanChange } from './edit.js';
