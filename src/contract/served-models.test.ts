import { describe, expect, it } from 'vitest';
import { ServedModelSchema, servedModels, servedRoutes } from './served-models.js';

describe('served models and routes', () => {
  const models = servedModels({ engines: ['studio', 'openai'], defaultEngine: 'openai', price: (_m, res) => (res === '1K' ? 0.1 : 1) });

  it('lists every model with the routes and the default engine, in the schema the OpenAPI document shows', () => {
    expect(models.map((m) => m.id)).toEqual(['gpt-image-2-image-to-image', 'gpt-image-2/image-to-image', 'gpt-image-2-image-to-image-pro']);
    for (const m of models) {
      expect(ServedModelSchema.safeParse(m).success).toBe(true);
      expect(m).toMatchObject({ routes: ['default', 'studio', 'openai'], default_engine: 'openai', price_usd: 0.1 });
    }
  });

  it('reads the routes back, default first; a server that lists none accepts only its default', () => {
    expect(servedRoutes(models)).toEqual({ routes: ['default', 'studio', 'openai'], defaultEngine: 'openai' });
    // hiapi's own entries carry no routes
    expect(servedRoutes([{ id: 'gpt-image-2/image-to-image', category: 'image', output_type: 'image', supported_endpoint_types: ['task'] }])).toEqual({ routes: ['default'] });
    expect(servedRoutes([])).toEqual({ routes: ['default'] });
    // a route name this client does not know is not taken on trust
    expect(servedRoutes([{ ...models[0], routes: ['default', 'ext'] }])).toEqual({ routes: ['default'] });
  });
});
