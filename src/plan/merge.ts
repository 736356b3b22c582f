/**
 * Deep merge of plain plan objects: objects merge key by key, arrays and scalars replace,
 * `undefined` leaves the base value. Used for prompt + input.scene and, later, for edits of a
 * parent plan.
 */
export function mergePlan<T>(base: T, over: unknown): T {
  if (!isPlain(over)) return (over === undefined ? base : over) as T;
  if (!isPlain(base)) return structuredCloneSafe(over) as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = mergePlan(out[k], v);
  }
  return out as T;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function structuredCloneSafe(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}
