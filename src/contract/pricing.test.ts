import { describe, expect, it } from 'vitest';
import { priceFor, priceNames, type PriceRow } from './pricing.js';

describe('priceFor', () => {
  it('prices a route by its model@route row (any of the model\'s names), else by the plain row', () => {
    const routed: PriceRow[] = [
      { model_name: 'gpt-image-2-image-to-image', base_usd_value: 0, policies: [] },
      { model_name: 'gpt-image-2/image-to-image@hiapi', base_usd_value: 0.036, policies: [{ rule: { resolution: { match: '4K' } }, usd_value: 0.072 }] },
    ];
    expect(priceFor(routed, 'gpt-image-2-image-to-image', { resolution: '4K' }, 'hiapi')).toBe(0.072);
    expect(priceFor(routed, 'gpt-image-2-image-to-image', { resolution: '1K' }, 'hiapi')).toBe(0.036);
    // no route, `default`, "", or a route without a row: the plain row
    for (const route of [undefined, 'default', '', 'studio']) expect(priceFor(routed, 'gpt-image-2-image-to-image', {}, route)).toBe(0);
    expect(priceFor(routed, 'unknown-model', {}, 'hiapi')).toBeUndefined();
  });

  const rows: PriceRow[] = [
    { model_name: 'gpt-image-2/image-to-image', base_usd_value: 0.03, policies: [
      { rule: { resolution: { match: '4K' } }, usd_value: 0.06 },
      { rule: { resolution: { match: '2K' } }, usd_value: 0.04 },
    ] },
    { model_name: 'gpt-image-2-image-to-image-pro', base_usd_value: 0.4 },
  ];

  it('applies the first matching policy and knows both spellings of a model', () => {
    expect(priceFor(rows, 'gpt-image-2-image-to-image', { resolution: '1K' })).toBe(0.03);
    expect(priceFor(rows, 'gpt-image-2-image-to-image', { resolution: '4K' })).toBe(0.06);
    expect(priceFor(rows, 'gpt-image-2/image-to-image', { resolution: '2K' })).toBe(0.04);
    expect(priceFor(rows, 'gpt-image-2-image-to-image-pro', {})).toBe(0.4);
    expect(priceFor(rows, 'unknown-model', {})).toBeUndefined();
  });

  it("prefers the row with the model's own name over a row for another spelling, whatever the row order", () => {
    const both: PriceRow[] = [
      { model_name: 'gpt-image-2/image-to-image', base_usd_value: 0.05 },
      { model_name: 'gpt-image-2-image-to-image', base_usd_value: 0.01 },
    ];
    expect(priceFor(both, 'gpt-image-2-image-to-image', {})).toBe(0.01);
    expect(priceFor(both, 'gpt-image-2/image-to-image', {})).toBe(0.05);
    expect(priceNames('gpt-image-2/text-to-image')).toEqual(['gpt-image-2/text-to-image', 'gpt-image-2-text-to-image']);
  });

  it('needs every condition of a rule; `with` tests presence, and a condition with neither holds when the field is absent', () => {
    const row: PriceRow = {
      model_name: 'gpt-image-2-image-to-image',
      base_usd_value: 0.03,
      policies: [
        { rule: { resolution: { match: '4K' }, seed: { with: true } }, usd_value: 0.08 },
        { rule: { resolution: { match: '4K' } }, usd_value: 0.06 },
        { rule: { scene: { with: false, match: 'ignored' }, background: {} }, usd_value: 0.02 },
      ],
    };
    const price = (input: Record<string, unknown>) => priceFor([row], 'gpt-image-2-image-to-image', input);
    expect(price({ resolution: '4K', seed: 7 })).toBe(0.08);
    expect(price({ resolution: '4K' })).toBe(0.06);
    expect(price({ resolution: '1K' })).toBe(0.02);
    expect(price({ resolution: '1K', background: 'opaque' })).toBe(0.03);
    expect(price({ resolution: '1K', scene: {} })).toBe(0.03);
  });

  it('compares a match by value and type: 2 is not "2"', () => {
    const row: PriceRow = { model_name: 'm', base_usd_value: 1, policies: [{ rule: { n: { match: 2 } }, usd_value: 2 }] };
    expect(priceFor([row], 'm', { n: 2 })).toBe(2);
    expect(priceFor([row], 'm', { n: '2' })).toBe(1);
  });
});
