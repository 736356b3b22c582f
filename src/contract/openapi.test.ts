import { describe, expect, it } from 'vitest';
import { comboProblem, MODELS, RESOLUTIONS, type AspectRatio, type Resolution } from './models.js';
import { createBodySchema, openApiDocument } from './openapi.js';
import { validateCreateBody } from './validate.js';

const URL1 = 'https://example.com/p.jpg';

/** Whether the validator accepts a body (it throws the contract's 400 otherwise). */
const accepts = (body: unknown) => {
  try {
    validateCreateBody(body, { persistentStorage: true });
    return true;
  } catch {
    return false;
  }
};

describe('the OpenAPI create bodies and the validator', () => {
  for (const spec of Object.values(MODELS)) {
    const schema = createBodySchema(spec);
    const body = (input: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
      model: spec.name,
      input: { prompt: 'on slate', input_urls: [URL1], aspect_ratio: '1:1', resolution: '1K', ...input },
      ...top,
    });

    it(`${spec.name}: every field value the schema allows, the validator allows (cross-field rules aside)`, () => {
      const cases: Array<ReturnType<typeof body>> = [body({})];
      for (const ar of spec.aspectRatios) {
        for (const res of spec.resolutions) if (!comboProblem(spec, ar as AspectRatio, res as Resolution)) cases.push(body({ aspect_ratio: ar, resolution: res }));
      }
      cases.push(
        body({ seed: 0 }),
        body({ seed: 0xffffffff }),
        body({ input_urls: Array(spec.maxRefs).fill(URL1) }),
        body({ output_format: 'webp', background: 'transparent' }),
        body({ roles: ['product'] }),
        body({ scene: {} }),
        body({ scene_from: 'tk-hiapi-01M1NB9DKKZRNHA8YSTEMMM3CW' }),
        body({ prompt: 'x'.repeat(20000) }),
        body({ quality: 'high', n: 2 }),
        body({}, { callback: null, route: '', storage: 'persistent' }),
        body({}, { callback: { url: 'https://hooks.example.com/x', when: 'final' }, route: 'default', storage: 'temp' }),
        body({ lock: 'blend' }, { route: 'hiapi' }),
        body({ lock: 'off' }, { route: 'studio' }),
      );
      for (const c of cases) {
        expect(schema.safeParse(c).success, JSON.stringify(c.input)).toBe(true);
        expect(accepts(c), JSON.stringify(c)).toBe(true);
      }
    });

    it(`${spec.name}: every field value the schema refuses, the validator refuses`, () => {
      const refused = [
        body({ aspect_ratio: '7:5' }),
        body({ resolution: '8K' }),
        ...RESOLUTIONS.filter((r) => !spec.resolutions.includes(r)).map((r) => body({ resolution: r, aspect_ratio: '16:9' })),
        body({ seed: -1 }),
        body({ seed: 1.5 }),
        body({ seed: 0x100000000 }),
        body({ seed: '7' }),
        body({ input_urls: [] }),
        body({ input_urls: Array(spec.maxRefs + 1).fill(URL1) }),
        body({ prompt: '' }),
        body({ prompt: 'x'.repeat(20001) }),
        body({ output_format: 'gif' }),
        body({ background: 'clear' }),
        body({ roles: ['scenery'] }),
        body({ scene: 'dark' }),
        body({ scene_from: 'task-1' }),
        body({}, { storage: 'forever' }),
        body({}, { route: 'ext' }),
        body({ lock: 'loose' }),
        body({}, { callback: { url: `https://h.example/${'x'.repeat(2048)}` } }),
        body({}, { callback: { url: 'https://h.example/x', when: 'always' } }),
        { ...body({}), model: 'dall-e-3' },
      ];
      for (const c of refused) {
        expect(schema.safeParse(c).success, JSON.stringify(c).slice(0, 200)).toBe(false);
        expect(accepts(c), JSON.stringify(c).slice(0, 200)).toBe(false);
      }
    });
  }
});

describe('openApiDocument', () => {
  it('is OpenAPI 3.1 with a create body per model and the error envelope on every error', () => {
    const doc = openApiDocument('9.9.9') as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('9.9.9');
    const oneOf = doc.paths['/v1/tasks'].post.requestBody.content['application/json'].schema.oneOf;
    expect(oneOf.flatMap((b: any) => b.properties.model.enum).sort()).toEqual(Object.keys(MODELS).sort());
    for (const ops of Object.values(doc.paths) as any[]) {
      for (const op of Object.values(ops) as any[]) {
        for (const [status, r] of Object.entries(op.responses) as Array<[string, any]>) {
          if (Number(status) >= 400) expect(r.content['application/json'].schema.required).toEqual(['code', 'message', 'data', 'error_code']);
        }
      }
    }
    expect(JSON.stringify(doc)).not.toContain('$schema');
  });
});
