import type { FastifyInstance } from 'fastify';
import { servedModels } from '../../contract/served-models.js';
import { configuredEngines } from '../../config.js';
import { AppError } from '../../errors.js';
import { ok } from '../envelope.js';
import type { ServerDeps } from '../server.js';

/** Models, prices, health, readiness and metrics. */
export function registerMetaRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { pricing, store, blobs, metrics } = deps;

  // hiapi's shape (a list of `{id, category, output_type, supported_endpoint_types}`), which clients
  // filter on to find image models; reshoot's limits, prices and the routes this server accepts
  // (default and its configured engines, §15) ride alongside, not instead.
  const served = { engines: configuredEngines(deps.config.engines), defaultEngine: deps.config.engines.default };
  app.get('/v1/models', async () => ok(servedModels({ ...served, price: (model, resolution) => pricing.price(model, { resolution }) })));

  app.get('/api/pricing', async () => ok(pricing.rows()));

  app.get('/healthz', async () => ok({ status: 'ok', version: deps.version }));

  app.get('/readyz', async () => {
    try {
      if (!deps.disk.ok()) throw new Error(`the data disk has ${Math.round((deps.disk.free() ?? 0) / 2 ** 20)} MB free, under the ${Math.round(deps.disk.minFreeBytes / 2 ** 20)} MB floor`);
      await store.ping();
      await deps.queue?.ping?.();
      await blobs.check();
    } catch (err) {
      throw new AppError('SERVICE_UNAVAILABLE', `not ready: ${(err as Error).message}`, { cause: err, retryAfter: 5 });
    }
    return ok({ status: 'ready' });
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
