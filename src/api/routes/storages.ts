import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';
import { ok } from '../envelope.js';
import type { ServerDeps } from '../server.js';
import { normalisePaging } from './tasks.js';

/** hiapi takes at most this many output ids per promote or delete. */
const MAX_IDS = 50;

function outputIds(body: unknown): string[] {
  if (!Array.isArray(body) || body.length === 0 || body.length > MAX_IDS || !body.every((v) => typeof v === 'string' && v.length <= 64)) {
    throw new AppError('INVALID_REQUEST', `body: expected a JSON array of 1 to ${MAX_IDS} output ids (strings, from GET /v1/storages)`);
  }
  return body as string[];
}

/**
 * hiapi's storage endpoints: `GET /v1/storages` lists the caller's outputs with their tier,
 * `POST /v1/storages/promote` keeps outputs until they are deleted, `POST /v1/storages/delete`
 * deletes them now. Promote and delete answer per id: `{accepted, rejected: [{id, reason}]}`.
 */
export function registerStorageRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { storages, tasks } = deps;

  app.get<{ Querystring: { page?: string; size?: string } }>('/v1/storages', async (req) => {
    const { page, size } = normalisePaging(req.query);
    return ok(await storages.list(req.apiKey.id, page, size));
  });

  app.post('/v1/storages/promote', async (req) => {
    const ids = outputIds(req.body);
    const budget = req.apiKey.budgetUsd;
    return ok(await storages.promote(req.apiKey.id, ids, { budgetLeftUsd: budget === null ? null : budget - (await tasks.spent(req.apiKey.id)) }));
  });

  app.post('/v1/storages/delete', async (req) => ok(await storages.remove(req.apiKey.id, outputIds(req.body))));
}
