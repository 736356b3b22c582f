import { describe, expect, it } from 'vitest';
import { priceFor } from '../contract/pricing.js';
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

describe('generative routes', () => {
  const MODEL = 'gpt-image-2-image-to-image';
  const hiapiTable = JSON.stringify([{ model_name: MODEL, base_usd_value: 0.03, policies: [{ rule: { resolution: { match: '4K' } }, usd_value: 0.06 }] }]);

  it('charges a configured upstream price plus the margin, served as a model@route row', () => {
    const pricing = loadPricing(undefined, { default: 'studio', engines: { hiapi: 0.05, comfyui: null }, margin: 0.2 });
    expect(pricing.quote(MODEL, {}, 'hiapi')).toEqual({ usd: 0.06, engine: 'hiapi', upstreamUsd: 0.05 });
    // the studio and a route without a price of its own: the model's own row (0 for the standard model)
    expect(pricing.quote(MODEL, {})).toEqual({ usd: 0, engine: 'studio', upstreamUsd: 0 });
    expect(pricing.quote(MODEL, {}, 'comfyui')).toEqual({ usd: 0, engine: 'comfyui', upstreamUsd: 0 });
    expect(pricing.quote('gpt-image-2-image-to-image-pro', {}, 'comfyui')).toEqual({ usd: 0.48, engine: 'comfyui', upstreamUsd: 0.4 });
    const rows = pricing.rows();
    expect(rows.find((r) => r.model_name === `${MODEL}@hiapi`)).toMatchObject({ base_usd_value: 0.06, policies: [], base_display_unit: 'image' });
    // every accepted name is priced on the route, as the clients' priceFor reads the rows
    expect(priceFor(rows, 'gpt-image-2/image-to-image', { resolution: '4K' }, 'hiapi')).toBe(0.06);
    expect(rows.some((r) => r.model_name.endsWith('@openai'))).toBe(false);
  });

  it('prices hiapi without a configured price by the model\'s own row (hiapi\'s price for that name), policies included', () => {
    const pricing = loadPricing(hiapiTable, { default: 'studio', engines: { hiapi: null }, margin: 0.1 });
    expect(pricing.quote(MODEL, { resolution: '4K' }, 'hiapi')).toEqual({ usd: 0.066, engine: 'hiapi', upstreamUsd: 0.06 });
    expect(pricing.quote(MODEL, { resolution: '1K' }, 'hiapi')).toEqual({ usd: 0.033, engine: 'hiapi', upstreamUsd: 0.03 });
    expect(pricing.price(MODEL, { resolution: '4K' }, 'studio')).toBe(0.06);
  });

  it('a model@route row in RESHOOT_PRICING is the price as it stands; the upstream\'s part is still its own', () => {
    const table = JSON.stringify([{ model_name: `${MODEL}@hiapi`, base_usd_value: 0.09 }]);
    const pricing = loadPricing(table, { default: 'studio', engines: { hiapi: 0.05 }, margin: 0.2 });
    expect(pricing.quote(MODEL, {}, 'hiapi')).toEqual({ usd: 0.09, engine: 'hiapi', upstreamUsd: 0.05 });
  });

  it('with an upstream as the default engine, the plain row is that upstream\'s price and model@studio the studio\'s', () => {
    const pricing = loadPricing(undefined, { default: 'hiapi', engines: { hiapi: 0.05 }, margin: 0 });
    expect(pricing.quote(MODEL, {})).toEqual({ usd: 0.05, engine: 'hiapi', upstreamUsd: 0.05 });
    expect(pricing.quote(MODEL, {}, 'default')).toEqual({ usd: 0.05, engine: 'hiapi', upstreamUsd: 0.05 });
    expect(pricing.quote(MODEL, {}, 'studio')).toEqual({ usd: 0, engine: 'studio', upstreamUsd: 0 });
    const rows = pricing.rows();
    expect(priceFor(rows, MODEL, {})).toBe(0.05);
    expect(priceFor(rows, MODEL, {}, 'studio')).toBe(0);
    expect(priceFor(rows, 'gpt-image-2-image-to-image-pro', {}, 'studio')).toBe(0.4);
  });
});
