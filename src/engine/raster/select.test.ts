import { describe, expect, it } from 'vitest';
import { kth } from './select.js';

describe('kth: an order statistic by selection', () => {
  // the figure a full sort gave, for every k, on arrays with many ties, runs and a few sizes
  it('picks the value a sort puts at k', () => {
    let seed = 9;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (const n of [1, 2, 3, 7, 50, 401]) {
      for (const levels of [2, 5, 1000]) {
        const values = Float64Array.from({ length: n }, (_, i) => (i % 9 === 0 ? 3 : Math.floor(rnd() * levels) / 7));
        const sorted = Float64Array.from(values).sort();
        for (let k = 0; k < n; k++) expect(kth(Float64Array.from(values), k)).toBe(sorted[k]);
      }
    }
  });
});

