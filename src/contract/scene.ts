import { z } from 'zod';

/**
 * `input.scene`: explicit scene settings that win over what the planner reads from the prompt.
 * The planner (engine/plan) owns the full ScenePlan vocabulary; this is the wire-side check that the
 * value is a plain JSON object of bounded size. The planner validates the fields themselves.
 */
export const SceneOverrideSchema = z.record(z.string(), z.unknown());
export type SceneOverride = z.infer<typeof SceneOverrideSchema>;
