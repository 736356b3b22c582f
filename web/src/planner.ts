import { planScene, nearestDirection, type ScenePlan, type SceneOverride } from '../../src/plan/index.js';
import { creditSceneTag, matchSceneTag, type TaggedScene } from '../../src/plan/scene-tags.js';

/** A phrase the planner used, with the part of the plan it set (`surface`, `light` …). */
export interface UnderstoodChip {
  text: string;
  field: string;
}

export interface PromptReading {
  understood: UnderstoodChip[];
  ignored: string[];
  /** the full plan the engine would render, the fine controls merged in; null when it cannot be made */
  plan: ScenePlan | null;
  /** why no plan could be made (an out-of-range setting), for the form */
  problem: string | null;
  /** the title of the library scene the prompt names (its photo is the set), when it names one */
  libraryScene?: string;
}

/**
 * What the engine's own planner makes of a prompt and the fine controls, for the live chips and the
 * controls' "from prompt" values: each phrase it used (once, in prompt order) and the words it did not use.
 * `library`: the server's scene library; a tag the prompt names reads as the scene, as the server reads it.
 */
export function readPrompt(prompt: string, scene?: SceneOverride, library: ReadonlyArray<TaggedScene & { title?: string }> = []): PromptReading {
  let plan: ScenePlan;
  try {
    plan = planScene(prompt, scene ? { scene } : {});
  } catch (err) {
    // A planner error must never take the form down; the server reports it again on submit.
    return { understood: [], ignored: [], plan: null, problem: (err as Error).message };
  }
  const named = library.length ? matchSceneTag(prompt, library) : null;
  if (named) plan.words = creditSceneTag(plan.words, named);
  const understood: UnderstoodChip[] = [];
  let last: { field: string; start: number; end: number } | null = null;
  for (const w of plan.words.understood) {
    const field = w.fields.length ? groupOf(w.fields[0]!) : 'noted';
    // Neighbouring words that set the same part of the plan read as one phrase ("dark slate stone surface").
    if (last && last.field === field && /^[\s\w'-]{0,12}$/.test(prompt.slice(last.end, w.start)) && !/\s{2,}/.test(prompt.slice(last.end, w.start))) {
      last.end = w.end;
      understood[understood.length - 1] = { field, text: prompt.slice(last.start, last.end) };
      continue;
    }
    last = { field, start: w.start, end: w.end };
    understood.push({ field, text: prompt.slice(w.start, w.end) || w.text });
  }
  const ignored = [...new Set(plan.words.unused.map((w) => w.toLowerCase()))];
  const photo = named && library.find((s) => s.id === named.id);
  return { understood, ignored, plan, problem: null, ...(photo ? { libraryScene: photo.title ?? photo.id } : {}) };
}

const GROUPS: Record<string, string> = { product: 'product', palette: 'colour', grade: 'grade', scene_photo: 'your scene' };

/** `surface.material` → `surface`: the chip's label is the part of the plan a word set. */
function groupOf(field: string): string {
  const top = field.split('.')[0]!;
  return GROUPS[top] ?? top;
}

const words = (s: string) => s.replace(/-/g, ' ');

/**
 * The plan in a few readable lines: what the render will look like before it is made. `libraryScene`:
 * the title of the library photo that is the set (its surface and light replace the plan's).
 */
export function planSummary(plan: ScenePlan, libraryScene?: string): Array<[string, string]> {
  const s = plan.surface;
  const b = plan.backdrop;
  const l = plan.light;
  const rows: Array<[string, string]> = [];
  rows.push(['Style', [words(plan.style), ...plan.mood.map(words)].join(', ')]);
  if (libraryScene) {
    rows.push(['Set', `${libraryScene} (your photo: its surface and its light)`]);
    return rows;
  }
  rows.push(['Surface', s.material === 'none' ? 'none (floating)' : `${s.tone} ${s.material}, ${s.finish}`]);
  rows.push(['Backdrop', b.kind === 'environment' ? `blurred ${words(b.environment)}` : words(b.kind)]);
  const hard = l.hardness >= 0.65 ? 'hard' : l.hardness <= 0.35 ? 'soft' : 'medium';
  rows.push(['Light', `from ${words(l.from)}, ${hard}, ${l.temperature} K${l.pattern !== 'none' ? `, ${l.pattern} pattern` : ''}`]);
  const fx = Object.entries(plan.effects)
    .filter(([, v]) => v > 0.05)
    .map(([k]) => k);
  if (fx.length) rows.push(['Effects', fx.join(', ')]);
  return rows;
}

/** The plan's direction word for an angle, as the planner itself names it. */
export function directionName(azimuth: number): string {
  return words(nearestDirection(azimuth, 30));
}

/** A one-line caption for a finished task from the plan it reports (`reshoot.plan`), or null. */
export function describePlan(plan: unknown): string | null {
  const p = plan as Partial<ScenePlan> | null | undefined;
  if (!p || typeof p !== 'object' || !p.surface || !p.backdrop || !p.light) return null;
  const surface = p.surface.material === 'none' ? 'floating' : `${p.surface.tone} ${p.surface.material}`;
  const backdrop = p.backdrop.kind === 'environment' ? `blurred ${words(p.backdrop.environment)}` : `${words(p.backdrop.kind)} backdrop`;
  const fx = p.effects ? Object.entries(p.effects).filter(([, v]) => typeof v === 'number' && v > 0.05).map(([k]) => k) : [];
  return [surface, backdrop, `light from ${words(p.light.from)}`, ...fx].join(' · ');
}

/** Names for the plan fields a relative edit changes most; any other path reads as its words. */
const FIELD_NAMES: Record<string, string> = {
  'light.temperature': 'Light colour',
  'light.azimuth': 'Light angle',
  'light.from': 'Light from',
  'light.elevation': 'Light height',
  'light.hardness': 'Light hardness',
  'light.intensity': 'Light strength',
  'grade.warmth': 'Warmth',
  'grade.exposure': 'Exposure',
  'grade.saturation': 'Saturation',
  'framing.size': 'Product size',
  'framing.position': 'Position',
  'framing.camera': 'Camera',
  'surface.color': 'Surface colour',
  'surface.tone': 'Surface tone',
  'surface.material': 'Surface',
  'backdrop.kind': 'Backdrop',
  'backdrop.environment': 'Setting',
  'backdrop.blur': 'Backdrop blur',
  'shadow.opacity': 'Shadow depth',
};

function changeValue(path: string, v: unknown): string {
  if (typeof v === 'number') {
    if (path === 'light.temperature') return `${Math.round(v)} K`;
    if (path === 'light.azimuth' || path === 'light.elevation') return `${Math.round(v)}°`;
    if (path === 'framing.size') return `${Math.round(v * 100)} %`;
    return Number.isInteger(v) ? String(v) : v.toFixed(2);
  }
  if (typeof v === 'string') return words(v);
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return v === undefined || v === null ? '—' : JSON.stringify(v);
}

/** What a relative edit changed (`reshoot.plan.changes`), one readable line each: `Light colour 5200 K → 4300 K`. */
export function describeChanges(plan: unknown): string[] {
  const changes = (plan as { changes?: unknown } | null | undefined)?.changes;
  if (!Array.isArray(changes)) return [];
  return changes
    .filter((c): c is { path: string; from: unknown; to: unknown } => typeof c === 'object' && c !== null && typeof (c as { path?: unknown }).path === 'string')
    .map((c) => {
      const name = FIELD_NAMES[c.path] ?? words(c.path.replace(/\./g, ' ').replace(/_/g, ' '));
      return `${name.charAt(0).toUpperCase()}${name.slice(1)} ${changeValue(c.path, c.from)} → ${changeValue(c.path, c.to)}`;
    });
}
