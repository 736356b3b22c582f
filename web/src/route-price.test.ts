import { describe, expect, it } from 'vitest';
import { MODELS } from '../../src/contract/models.js';
import type { PriceRow } from '../../src/contract/pricing.js';
import { studioPrice } from './route-price.js';

// The rows a server with the hiapi engine serves at /api/pricing (tasks/pricing.ts): the models' own
// rows, and a `model@hiapi` row per model for the upstream's price plus the margin.
const STANDARD = 'gpt-image-2-image-to-image';
const PRO = 'gpt-image-2-image-to-image-pro';
const rows: PriceRow[] = [
  { model_name: STANDARD, base_usd_value: 0, policies: [] },
  { model_name: PRO, base_usd_value: 0.4, policies: [{ rule: { resolution: { match: '4K' } }, usd_value: 0.8 }] },
  { model_name: `${STANDARD}@hiapi`, base_usd_value: 0.06, policies: [] },
  { model_name: `${PRO}@hiapi`, base_usd_value: 0.12, policies: [] },
];
const format = { aspectRatio: '1:1', resolution: '1K' };

describe('the studio\'s price line', () => {
  it('shows the picked route\'s price, not the model\'s list price', () => {
    expect(studioPrice(rows, STANDARD, 'hiapi', format)).toBe(0.06);
    expect(studioPrice(rows, PRO, 'hiapi', format)).toBe(0.12);
    expect(studioPrice(rows, STANDARD, 'hiapi', format)).not.toBe(MODELS[STANDARD]!.priceUsd);
  });

  it('the default route and a route without a row of its own are priced by the plain row, at the picked resolution', () => {
    expect(studioPrice(rows, STANDARD, 'default', format)).toBe(0);
    expect(studioPrice(rows, PRO, 'default', format)).toBe(0.4);
    expect(studioPrice(rows, PRO, 'studio', { aspectRatio: '1:1', resolution: '4K' })).toBe(0.8);
    expect(studioPrice(rows, PRO, 'openai', format)).toBe(0.4);
  });

  it('the model\'s list price until the rows are read, or when they do not name the model', () => {
    expect(studioPrice(null, PRO, 'hiapi', format)).toBe(MODELS[PRO]!.priceUsd);
    expect(studioPrice([], STANDARD, 'hiapi', format)).toBe(MODELS[STANDARD]!.priceUsd);
  });
});
