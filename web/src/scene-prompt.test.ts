import { describe, expect, it } from 'vitest';
import { planSummary, readPrompt } from './planner.js';
import { promptWithScene } from './scene-prompt.js';

const SCENES = [
  { id: 'oak-table', tags: ['oak table', 'our table'] },
  { id: 'meadow', tags: ['meadow'] },
];

describe('promptWithScene', () => {
  it('adds the scene\'s first tag to a prompt that names no scene', () => {
    expect(promptWithScene('', SCENES[0]!, SCENES)).toBe('on the oak table');
    expect(promptWithScene('soft morning light, ', SCENES[0]!, SCENES)).toBe('soft morning light, on the oak table');
    expect(promptWithScene('soft morning light', SCENES[1]!, SCENES)).toBe('soft morning light, on the meadow');
  });

  it('swaps the scene the prompt names for the one clicked, and leaves a prompt naming it alone', () => {
    expect(promptWithScene('the mug on Our Table, warm light', SCENES[1]!, SCENES)).toBe('the mug on meadow, warm light');
    expect(promptWithScene('the mug on our table', SCENES[0]!, SCENES)).toBe('the mug on our table');
  });
});

describe('readPrompt with the scene library', () => {
  it('reads a tag as the scene, as the server does, and as a surface without the library', () => {
    const prompt = 'the mug on the oak table, soft light';
    expect(readPrompt(prompt).understood).toContainEqual({ field: 'surface', text: 'oak table' });
    const withLibrary = readPrompt(prompt, undefined, SCENES);
    expect(withLibrary.understood).toContainEqual({ field: 'your scene', text: 'oak table' });
    expect(withLibrary.understood.some((c) => c.field === 'surface')).toBe(false);
    // the summary says the photo is the set, not a drawn surface and backdrop
    const titled = readPrompt(prompt, undefined, [{ id: 'oak-table', tags: ['oak table'], title: 'The oak table' }]);
    expect(titled.libraryScene).toBe('The oak table');
    expect(Object.keys(Object.fromEntries(planSummary(titled.plan!, titled.libraryScene)))).toEqual(['Style', 'Set']);
    expect(Object.fromEntries(planSummary(titled.plan!, titled.libraryScene)).Set).toBe('The oak table (your photo: its surface and its light)');
    expect(Object.fromEntries(planSummary(readPrompt(prompt).plan!)).Surface).toMatch(/wood/);
  });
});
