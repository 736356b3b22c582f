/**
 * The plan's notes on words the render could not follow as written ("steam: dropped — the product has
 * no opening for it to rise from"). The result's upscale warning has its own notice on the stage. Read
 * defensively: `reshoot.plan` is typed unknown on the wire.
 */
export function planNotes(plan: unknown): string[] {
  const words = typeof plan === 'object' && plan !== null ? (plan as { words?: unknown }).words : undefined;
  const notes = typeof words === 'object' && words !== null ? (words as { notes?: unknown }).notes : undefined;
  return Array.isArray(notes) ? notes.filter((n): n is string => typeof n === 'string' && n.trim() !== '') : [];
}
