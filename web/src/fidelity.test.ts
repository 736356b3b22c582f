import { describe, expect, it } from 'vitest';
import { fidelityFigures } from './fidelity.js';

describe('fidelity figures', () => {
  it('headlines the product colour kept and shows the relight apart, so a relit render is not "clearly changed"', () => {
    // the default slate render: the light moved the product's lightness a lot, its colour not at all
    const f = fidelityFigures({
      deltaE: { mean: 5.8, p95: 10.2 }, deltaEUnlit: { mean: 0.47, p95: 0.89 }, colourKept: { mean: 0.21, p95: 0.5 },
      relight: { applied: true, deltaE: { mean: 5.6, p95: 9.9 }, lightness: -6.23 },
    });
    expect(f.headline).toMatchObject({ value: 'ΔE 0.21', label: 'Product colour kept · no visible change' });
    expect(f.relight).toMatchObject({ value: 'ΔE 5.60', sub: 'L* −6.2' });
    expect(`${f.headline!.label} ${f.relight!.label}`).not.toContain('clearly changed');
  });

  it('says clearly changed when the product itself changed colour', () => {
    const f = fidelityFigures({ deltaE: { mean: 9, p95: 14 }, deltaEUnlit: { mean: 8.5, p95: 13 }, colourKept: { mean: 7.9, p95: 12 }, relight: { applied: false, deltaE: { mean: 0, p95: 0 }, lightness: 0 } });
    expect(f.headline!.label).toBe('Product colour kept · clearly changed');
    expect(f.relight).toBeNull();
  });

  it('reads results from before the two figures by their unlit ΔE', () => {
    expect(fidelityFigures({ deltaE: { mean: 5.8, p95: 10 }, deltaEUnlit: { mean: 0.5, p95: 0.9 } }).headline!.value).toBe('ΔE 0.50');
    expect(fidelityFigures({ deltaE: { mean: 1.2, p95: 2 } }).headline!.value).toBe('ΔE 1.20');
    expect(fidelityFigures(null)).toEqual({ headline: null, relight: null });
  });
});
