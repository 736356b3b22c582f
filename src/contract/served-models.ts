import { z } from 'zod';
import { ENGINE_NAMES, MODELS, ROUTES, type EngineName } from './models.js';

/**
 * One entry of `GET /v1/models` (docs/contract.md §2, §15): hiapi's shape (`id`, `category`,
 * `output_type`, `supported_endpoint_types`), which clients filter on, with reshoot's limits, price
 * and routes alongside. `data` stays the array hiapi's clients expect; the routes a server accepts
 * ride on each model because a route is chosen per task together with a model.
 */
export const ServedModelSchema = z.looseObject({
  id: z.string(),
  category: z.literal('image'),
  output_type: z.literal('image'),
  supported_endpoint_types: z.array(z.literal('task')),
  canonical: z.string().optional().describe('reshoot: the model this name is a spelling of'),
  tier: z.enum(['standard', 'pro']).optional(),
  description: z.string().optional(),
  input_urls: z.object({ min: z.int(), max: z.int() }).optional(),
  aspect_ratios: z.array(z.string()).optional(),
  resolutions: z.array(z.string()).optional(),
  defaults: z.object({ aspect_ratio: z.string(), resolution: z.string() }).optional(),
  rules: z.string().optional(),
  price_usd: z.number().optional().describe('at the default resolution'),
  routes: z
    .array(z.enum(ROUTES))
    .optional()
    .describe('reshoot: the values of `route` this server accepts for the model: default and the engines it configured (the studio always)'),
  default_engine: z.enum(ENGINE_NAMES).optional().describe('reshoot: the engine `route` absent or `default` renders with (RESHOOT_DEFAULT_ENGINE)'),
});
export type ServedModel = z.infer<typeof ServedModelSchema>;

/** What a server accepts as `route`, read from its `GET /v1/models` answer. */
export interface ServedRoutes {
  /** `default` first, then the engines the server configured; just `default` for a server that does not say (hiapi itself) */
  routes: string[];
  /** the engine `default` means, when the server says */
  defaultEngine?: EngineName;
}

/**
 * The routes a server accepts, from its model list: reshoot lists them on every model; a server that
 * lists none (hiapi itself) is taken to accept only its default route.
 */
export function servedRoutes(models: readonly unknown[]): ServedRoutes {
  for (const m of models) {
    const parsed = ServedModelSchema.safeParse(m);
    if (parsed.success && parsed.data.routes) {
      const routes = ['default', ...parsed.data.routes.filter((r) => r !== 'default')];
      return parsed.data.default_engine ? { routes, defaultEngine: parsed.data.default_engine } : { routes };
    }
  }
  return { routes: ['default'] };
}

/** The `GET /v1/models` entries for a server that accepts `engines` and renders `default` with `defaultEngine`. */
export function servedModels(opts: { engines: readonly EngineName[]; defaultEngine: EngineName; price: (model: string, resolution: string) => number }): ServedModel[] {
  const routes = ['default' as const, ...opts.engines];
  return Object.values(MODELS).map((m) => ({
    id: m.name,
    category: 'image',
    output_type: 'image',
    supported_endpoint_types: ['task'],
    canonical: m.canonical,
    tier: m.tier,
    description: m.description,
    input_urls: { min: m.minRefs, max: m.maxRefs },
    aspect_ratios: [...m.aspectRatios],
    resolutions: [...m.resolutions],
    defaults: { aspect_ratio: m.defaultAspectRatio, resolution: m.defaultResolution },
    rules: m.rules,
    price_usd: opts.price(m.name, m.defaultResolution),
    routes,
    default_engine: opts.defaultEngine,
  }));
}
