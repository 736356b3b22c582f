import { describe, expect, it } from 'vitest';
import { loadPricing, pricingFromRows } from './pricing.js';

describe('loadPricing', () => {
  it('prices from the registry without a table', () => {
    const pricing = loadPricing();
    expect(pricing.price('gpt-image-2-image-to-image', { resolution: '4K' })).toBe(0);
    expect(pricing.price('gpt-image-2-image-to-image-pro', {})).toBe(0.4);
    expect(pricing.rows().map((r) => r.model_name)).toEqual([
      'gpt-image-2-image-to-image',
      'gpt-image-2/image-to-image',
      'gpt-image-2-image-to-image-pro',
      'storage/persistent',
    ]);
  });

  it('replaces the default row of each name the table gives, and only that one', () => {
    const pricing = loadPricing(
      JSON.stringify([{ model_name: 'gpt-image-2-image-to-image', base_usd_value: 0.03, policies: [{ rule: { resolution: { match: '4K' } }, usd_value: 0.06 }] }]),
    );
    expect(pricing.price('gpt-image-2-image-to-image', { resolution: '4K' })).toBe(0.06);
    expect(pricing.price('gpt-image-2-image-to-image', { resolution: '1K' })).toBe(0.03);
    expect(pricing.price('gpt-image-2/image-to-image', { resolution: '4K' })).toBe(0);
    expect(pricing.rows()).toHaveLength(4);
  });

  it('serves every row in hiapi\'s full shape, filling what the table leaves out', () => {
    const pricing = loadPricing(JSON.stringify([{ model_name: 'storage/persistent', base_usd_value: 0.05 }, { model_name: 'gpt-image-2-image-to-image', base_usd_value: 0.03, category: 'edit' }]));
    const byName = Object.fromEntries(pricing.rows().map((r) => [r.model_name, r]));
    expect(byName['storage/persistent']).toEqual({ model_name: 'storage/persistent', base_usd_value: 0.05, policies: [], base_display_unit: 'GB/month', factors: {}, category: 'storage', supported_endpoint_types: ['storage'] });
    expect(byName['gpt-image-2-image-to-image']).toMatchObject({ base_display_unit: 'image', category: 'edit', supported_endpoint_types: ['task'] });
  });

  it('names the field a bad table gets wrong', () => {
    expect(() => loadPricing('[{"model_name":"x","base_usd_value":-1}]')).toThrow(/^RESHOOT_PRICING: 0\.base_usd_value: /);
    expect(() => loadPricing('[{')).toThrow(/^RESHOOT_PRICING: not valid JSON/);
  });

  it('prices a model no row names at 0', () => {
    expect(pricingFromRows([]).price('not-a-model', {})).toBe(0);
  });
});
