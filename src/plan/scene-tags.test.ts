import { describe, expect, it } from 'vitest';
import { planScene } from './index.js';
import { creditSceneTag, matchSceneTag, tagWords } from './scene-tags.js';

const LIBRARY = [
  { id: 'marble-table', tags: ['marble table', 'white marble'] },
  { id: 'oak-shelf', tags: ['shelf', 'oak shelf'] },
  { id: 'kitchen-counter', tags: ['Kitchen Counter', 'café counter'] },
  { id: 'marble-kitchen', tags: ['marble table top'] },
  { id: 'slate-board', tags: ['slate board'] },
  { id: 'linen-cloth', tags: ['linen cloth'] },
];

describe('matchSceneTag', () => {
  it('finds a multi-word tag as whole words, case-insensitive, and says where it stands', () => {
    const prompt = 'My perfume bottle on the Marble Table, soft morning light';
    expect(matchSceneTag(prompt, LIBRARY)).toEqual({ id: 'marble-table', tag: 'marble table', text: 'Marble Table', start: 25, end: 37 });
  });

  it('matches whole words only', () => {
    expect(matchSceneTag('a bottle on shelves', LIBRARY)).toBeNull();
    expect(matchSceneTag('a bottle on the bookshelf', LIBRARY)).toBeNull();
    expect(matchSceneTag('a bottle on the shelf', LIBRARY)?.id).toBe('oak-shelf');
  });

  it('lets the longest tag win, wherever it stands', () => {
    // "shelf" comes first, but "marble table top" has more words
    expect(matchSceneTag('on a shelf or on the marble table top', LIBRARY)).toMatchObject({ id: 'marble-kitchen', tag: 'marble table top' });
    // "oak shelf" (two words) beats "shelf" (one) at the same place
    expect(matchSceneTag('on the oak shelf', LIBRARY)).toMatchObject({ id: 'oak-shelf', tag: 'oak shelf', text: 'oak shelf' });
  });

  it('takes the tag with more letters between tags of as many words, then the one named first', () => {
    expect(matchSceneTag('white marble or kitchen counter', LIBRARY)?.id).toBe('kitchen-counter');
    expect(matchSceneTag('slate board or linen cloth', LIBRARY)?.id).toBe('slate-board');
    expect(matchSceneTag('linen cloth or slate board', LIBRARY)?.id).toBe('linen-cloth');
  });

  it('reads hyphens and extra spaces between a tag\'s words, but not punctuation', () => {
    expect(matchSceneTag('on the marble-table', LIBRARY)?.id).toBe('marble-table');
    expect(matchSceneTag('on the marble   table', LIBRARY)?.text).toBe('marble   table');
    expect(matchSceneTag('on marble, table lamp beside', LIBRARY)).toBeNull();
  });

  it('folds accents the way the planner does', () => {
    expect(matchSceneTag('on the CAFE COUNTER', LIBRARY)?.id).toBe('kitchen-counter');
    expect(tagWords('Café-Counter')).toEqual(['cafe', 'counter']);
  });

  it('finds nothing in an empty library or a prompt without a tag', () => {
    expect(matchSceneTag('on the marble table', [])).toBeNull();
    expect(matchSceneTag('on dark slate, dramatic side light', LIBRARY)).toBeNull();
  });
});

describe('creditSceneTag', () => {
  it('reports the tag\'s words as the scene, instead of the surface they would otherwise set', () => {
    const prompt = 'perfume bottle on the marble table, glorbish light';
    const plan = planScene(prompt);
    expect(plan.words.understood.some((w) => w.text === 'marble' && w.fields.some((f) => f.startsWith('surface')))).toBe(true);
    const match = matchSceneTag(prompt, LIBRARY)!;
    const words = creditSceneTag(plan.words, match);
    const scene = words.understood.filter((w) => w.fields.includes('scene_photo'));
    expect(scene).toEqual([{ text: 'marble table', start: 22, end: 34, fields: ['scene_photo'] }]);
    expect(words.understood.some((w) => w.start < match.end && w.end > match.start && !w.fields.includes('scene_photo'))).toBe(false);
    expect(words.understood.map((w) => w.start)).toEqual([...words.understood.map((w) => w.start)].sort((a, b) => a - b));
    // words the planner did not know are still reported, the tag's words no longer
    expect(words.unused).toContain('glorbish');
    const shelf = creditSceneTag(planScene('a can on the oak shelf').words, matchSceneTag('a can on the oak shelf', LIBRARY)!);
    expect(shelf.unused).not.toContain('oak');
    expect(shelf.unused).not.toContain('shelf');
  });
});
