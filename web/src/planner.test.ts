import { describe, expect, it } from 'vitest';
import { editPlan, planScene } from '../../src/plan/index.js';
import { describeChanges, describePlan, planSummary, readPrompt } from './planner.js';

describe('readPrompt', () => {
  it('groups neighbouring words into chips, in prompt order, and lists the words it did not use', () => {
    const r = readPrompt('on a dark slate stone surface with a soft steam wisp, zorblax');
    expect(r.problem).toBeNull();
    expect(r.understood.map((c) => c.field)).toContain('surface');
    expect(r.understood.find((c) => c.field === 'surface')!.text).toMatch(/slate stone/);
    expect(r.ignored).toContain('zorblax');
  });

  it('reports an out-of-range fine control as a problem instead of throwing', () => {
    const r = readPrompt('on marble', { framing: { size: 5 } });
    expect(r.plan).toBeNull();
    expect(r.problem).toBeTruthy();
  });
});

describe('describePlan and planSummary', () => {
  it('caption a plan in one line and a few rows', () => {
    const plan = planScene('on white marble, soft light from the left, a little steam');
    expect(describePlan(plan)).toMatch(/marble · .* · light from left/);
    expect(Object.fromEntries(planSummary(plan)).Surface).toMatch(/marble/);
    expect(describePlan(null)).toBeNull();
    expect(describePlan({ surface: {} })).toBeNull();
  });
});

describe('describeChanges', () => {
  const base = planScene('on dark slate, dramatic side light');

  it('reads an edit\'s plan.changes in words and units, never as raw paths', () => {
    const warm = editPlan(base, 'make the light warmer');
    const lines = describeChanges(warm);
    expect(lines).toContain(`Light colour ${base.light.temperature} K → ${warm.light.temperature} K`);
    expect(lines.some((l) => l.startsWith('Warmth '))).toBe(true);
    for (const l of lines) expect(l).not.toMatch(/[a-z]\.[a-z]/);
    const moved = describeChanges(editPlan(base, 'move the product to the left third'));
    expect(moved).toEqual([`Position ${base.framing.position} → left third`]);
    expect(describeChanges(editPlan(base, 'zoom out a bit'))[0]).toMatch(/^Product size \d+ % → \d+ %$/);
  });

  it('is empty for a plan without changes or anything else', () => {
    expect(describeChanges(base)).toEqual([]);
    expect(describeChanges(undefined)).toEqual([]);
    expect(describeChanges({ changes: [{ nope: 1 }] })).toEqual([]);
    expect(describeChanges({ changes: [{ path: 'shadow.softness', from: 0.4, to: 0.7 }] })).toEqual(['Shadow softness 0.40 → 0.70']);
  });
});
