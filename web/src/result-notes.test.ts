import { describe, expect, it } from 'vitest';
import { planNotes } from './result-notes.js';

describe('planNotes', () => {
  it('lists the notes the render made on the prompt\'s words', () => {
    const plan = { words: { understood: [], unused: [], notes: ['steam: dropped — the product has no opening for it to rise from'] } };
    expect(planNotes(plan)).toEqual(['steam: dropped — the product has no opening for it to rise from']);
  });

  it('reads a plan without notes, a missing plan and malformed shapes as no notes', () => {
    expect(planNotes(undefined)).toEqual([]);
    expect(planNotes({ words: { understood: [], unused: [] } })).toEqual([]);
    expect(planNotes('text')).toEqual([]);
    expect(planNotes({ words: { notes: [3, '', 'smoke: behind the product'] } })).toEqual(['smoke: behind the product']);
  });
});
