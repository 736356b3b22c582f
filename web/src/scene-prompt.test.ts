import { describe, expect, it } from 'vitest';
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
