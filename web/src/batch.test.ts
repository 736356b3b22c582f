import { describe, expect, it } from 'vitest';
import type { PriceRow } from '../../src/contract/pricing.js';
import { extensionFor, fileStem, formatUsd, isImageFile, parsePrompts, planBatch, promptSlug, quoteBatch, runBounded } from './batch.js';

const STANDARD = 'gpt-image-2-image-to-image';
const PRO = 'gpt-image-2-image-to-image-pro';

describe('the batch matrix', () => {
  it('makes one item per file × prompt × ratio, files outermost, each named <stem>/<slug>-<ratio>', () => {
    const plan = planBatch([{ name: 'mug.png' }, { name: 'shots/bottle.jpg' }], {
      model: STANDARD,
      resolution: '1K',
      prompts: ['On a marble counter', 'Beach at sunset'],
      ratios: ['1:1', '4:5'],
    });
    expect(plan.problems).toEqual([]);
    expect(plan.items.map((i) => i.name)).toEqual([
      'mug/on-a-marble-counter-1x1',
      'mug/on-a-marble-counter-4x5',
      'mug/beach-at-sunset-1x1',
      'mug/beach-at-sunset-4x5',
      'bottle/on-a-marble-counter-1x1',
      'bottle/on-a-marble-counter-4x5',
      'bottle/beach-at-sunset-1x1',
      'bottle/beach-at-sunset-4x5',
    ]);
    expect(plan.items[5]).toMatchObject({ fileIndex: 1, prompt: 'On a marble counter', ratio: '4:5' });
  });

  it('keeps names unique when two files share a stem or two prompts a slug', () => {
    const plan = planBatch([{ name: 'a/mug.png' }, { name: 'b/mug.png' }, { name: 'MUG.webp' }], {
      model: STANDARD,
      resolution: '1K',
      prompts: ['Warm light!', 'warm light'],
      ratios: ['1:1'],
    });
    const names = plan.items.map((i) => i.name);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    expect(names).toEqual([
      'mug/warm-light-1x1',
      'mug/warm-light-2-1x1',
      'mug-2/warm-light-1x1',
      'mug-2/warm-light-2-1x1',
      'MUG-3/warm-light-1x1',
      'MUG-3/warm-light-2-1x1',
    ]);
  });

  it('refuses a ratio × resolution the model does not serve, and an empty side of the matrix, before anything is sent', () => {
    expect(planBatch([{ name: 'a.png' }], { model: STANDARD, resolution: '4K', prompts: ['x'], ratios: ['1:1', '3:2'] }).problems).toEqual([
      '1:1 at 4K: resolution 4K is not allowed with aspect ratio 1:1.',
    ]);
    expect(planBatch([{ name: 'a.png' }], { model: PRO, resolution: '1K', prompts: ['x'], ratios: ['1:3'] }).problems).toEqual([
      '1:3 at 1K: not offered by this model.',
    ]);
    expect(planBatch([], { model: STANDARD, resolution: '1K', prompts: [], ratios: [] }).problems).toEqual([
      'Add at least one image.',
      'Write at least one prompt.',
      'Pick at least one aspect ratio.',
    ]);
  });

  it('refuses a matrix larger than one batch may hold', () => {
    const files = Array.from({ length: 60 }, (_, i) => ({ name: `p${i}.png` }));
    const plan = planBatch(files, { model: STANDARD, resolution: '1K', prompts: ['a', 'b', 'c'], ratios: ['1:1', '4:5', '16:9'] });
    expect(plan.problems).toEqual(['540 renders is more than the 500 one batch may hold; split it.']);
    expect(plan.items).toEqual([]);
  });
});

describe('names', () => {
  it('slugs a prompt to its first words, ASCII, at most 48 characters', () => {
    expect(promptSlug('  Crème brûlée on a café table  ')).toBe('creme-brulee-on-a-cafe-table');
    const long = promptSlug('on a snowy glacier under the northern lights with a warm rim light and soft fog');
    expect(long.length).toBeLessThanOrEqual(48);
    expect(long).toBe('on-a-snowy-glacier-under-the-northern-lights');
    expect(promptSlug('!!!')).toBe('prompt');
  });

  it('takes a file stem without folder or extension', () => {
    expect(fileStem('shoot/2024/Red Mug.final.png')).toBe('Red-Mug.final');
    expect(fileStem('C:\\x\\.png')).toBe('png');
    expect(fileStem('???.png')).toBe('image');
  });

  it('reads one prompt per line, without blanks or repeats', () => {
    expect(parsePrompts('on marble\n\n  on   marble \r\nbeach\n')).toEqual(['on marble', 'beach']);
  });

  it('picks the extension from the output content type', () => {
    expect(extensionFor('image/png')).toBe('png');
    expect(extensionFor('image/jpeg; charset=binary')).toBe('jpg');
    expect(extensionFor('image/webp')).toBe('webp');
  });

  it('knows image files by type, or by extension when the browser gives none', () => {
    expect(isImageFile({ name: 'a.txt', type: 'text/plain' })).toBe(false);
    expect(isImageFile({ name: 'a.JPG', type: '' })).toBe(true);
    expect(isImageFile({ name: '.DS_Store', type: '' })).toBe(false);
  });
});

describe('the quote', () => {
  const rows: PriceRow[] = [
    { model_name: STANDARD, base_usd_value: 0.03, policies: [{ rule: { resolution: { match: '2K' } }, usd_value: 0.05 }] },
    { model_name: PRO, base_usd_value: 0.4, policies: [{ rule: { aspect_ratio: { match: '16:9' } }, usd_value: 0.5 }] },
  ];

  it('prices each item by the server rows (resolution and ratio policies) and sums them', () => {
    const plan = planBatch([{ name: 'a.png' }, { name: 'b.png' }], { model: STANDARD, resolution: '2K', prompts: ['x', 'y'], ratios: ['4:5'] });
    const q = quoteBatch(rows, STANDARD, '2K', plan.items);
    expect(q.perItem).toEqual([0.05, 0.05, 0.05, 0.05]);
    expect(q.total).toBe(0.2);
    expect(q.unpriced).toBe(false);

    const pro = planBatch([{ name: 'a.png' }], { model: PRO, resolution: '1K', prompts: ['x'], ratios: ['1:1', '16:9'] });
    expect(quoteBatch(rows, PRO, '1K', pro.items)).toEqual({ perItem: [0.4, 0.5], total: 0.9, unpriced: false });
  });

  it('prices a route by its model@route row, and by the model\'s row when it has none', () => {
    const plan = planBatch([{ name: 'a.png' }], { model: STANDARD, resolution: '1K', prompts: ['x'], ratios: ['1:1', '4:5'] });
    const routed = [...rows, { model_name: `${STANDARD}@hiapi`, base_usd_value: 0.07 }];
    expect(quoteBatch(routed, STANDARD, '1K', plan.items, 'hiapi')).toEqual({ perItem: [0.07, 0.07], total: 0.14, unpriced: false });
    expect(quoteBatch(routed, STANDARD, '1K', plan.items, 'openai').perItem).toEqual([0.03, 0.03]);
    expect(quoteBatch(routed, STANDARD, '1K', plan.items).perItem).toEqual([0.03, 0.03]);
  });

  it('says when the table does not price the model', () => {
    const plan = planBatch([{ name: 'a.png' }], { model: PRO, resolution: '1K', prompts: ['x'], ratios: ['1:1'] });
    expect(quoteBatch([rows[0]!], PRO, '1K', plan.items)).toEqual({ perItem: [undefined], total: 0, unpriced: true });
  });

  it('formats money', () => {
    expect(formatUsd(0)).toBe('free');
    expect(formatUsd(0, '$0.00')).toBe('$0.00');
    expect(formatUsd(1.2)).toBe('$1.20');
    expect(formatUsd(0.0125)).toBe('$0.0125');
  });
});

describe('the bounded runner', () => {
  it('never has more than the limit in flight, runs every item once, and goes on past failures', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await runBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5 + (n % 3) * 3));
      inFlight--;
      if (n === 2) throw new Error('item 2 failed');
      done.push(n);
    });
    expect(most).toBe(3);
    expect(done.sort()).toEqual([1, 3, 4, 5, 6, 7]);
  });

  it('starts nothing new once stopped', async () => {
    const ctl = new AbortController();
    const started: number[] = [];
    await runBounded([1, 2, 3, 4], 1, async (n) => {
      started.push(n);
      if (n === 2) ctl.abort();
    }, ctl.signal);
    expect(started).toEqual([1, 2]);
  });
});
