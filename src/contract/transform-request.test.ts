import { describe, expect, it } from 'vitest';
import { transformRequest } from './transform-request.js';
import { validateCreateBody } from './validate.js';

const checked = (input: Record<string, unknown>) =>
  validateCreateBody({ model: 'gpt-image-2-image-to-image', input: { prompt: 'on marble', input_urls: ['https://a.example/p.png'], ...input } }).input;

describe('transformRequest', () => {
  it('renders png by default and leaves out what the input left out', () => {
    const req = transformRequest(checked({}), { tier: 'standard', sources: ['/tmp/p.png'], seed: 7 });
    expect(req).toEqual({
      tier: 'standard',
      prompt: 'on marble',
      sources: ['/tmp/p.png'],
      aspectRatio: 'auto',
      resolution: '1K',
      seed: 7,
      outputFormat: 'png',
    });
  });

  it('carries the optional fields and the plan a turn starts from', () => {
    const input = checked({ scene: { light: { temperature: 3600 } }, roles: ['product'], background: 'transparent', output_format: 'webp' });
    const req = transformRequest(input, { tier: 'pro', sources: ['/tmp/p.png'], seed: 1, base: { plan: { version: 1 }, mode: 'edit' } });
    expect(req).toMatchObject({
      tier: 'pro',
      scene: { light: { temperature: 3600 } },
      roles: ['product'],
      background: 'transparent',
      outputFormat: 'webp',
      basePlan: { version: 1 },
      planMode: 'edit',
    });
  });
});
