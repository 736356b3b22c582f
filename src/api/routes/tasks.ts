import type { FastifyInstance } from 'fastify';
import { TASK_ID_RE } from '../../contract/ids.js';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from '../../contract/idempotency.js';
import { validateCreateBody } from '../../contract/validate.js';
import { configuredEngines } from '../../config.js';
import { AppError } from '../../errors.js';
import { ok } from '../envelope.js';
import { requireDiskSpace, type ServerDeps } from '../server.js';

/** `page` ≥ 1 and `size` 1-100; a missing, non-integer or out-of-range value becomes the default (D9). */
export function normalisePaging(q: { page?: unknown; size?: unknown }): { page: number; size: number } {
  const int = (v: unknown) => (typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : NaN);
  const page = int(q.page);
  const size = int(q.size);
  return { page: page >= 1 ? page : 1, size: size >= 1 && size <= 100 ? size : 10 };
}

export function registerTaskRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { tasks, storages, guard } = deps;
  // `route`: default (RESHOOT_DEFAULT_ENGINE) or one of the engines this server has configured
  const routes = ['default', ...configuredEngines(deps.config.engines)];

  app.post('/v1/tasks', async (req, reply) => {
    const header = req.headers['idempotency-key'];
    let idempotencyKey: string | undefined;
    if (header !== undefined) {
      const value = Array.isArray(header) ? header.join(',') : header;
      if (!isValidIdempotencyKey(value)) throw new AppError('INVALID_REQUEST', `Idempotency-Key: ${IDEMPOTENCY_KEY_RULE}`);
      idempotencyKey = value;
    }
    if (req.body === undefined) throw new AppError('INVALID_REQUEST', 'body: expected a JSON object with model and input');
    requireDiskSpace(deps.disk);
    // storage: persistent is kept while the key has room under its cap, and falls back to temp past it (D17)
    const wantsPersistent = (req.body as { storage?: unknown } | null)?.storage === 'persistent';
    const request = validateCreateBody(req.body, {
      persistentStorage: wantsPersistent && (await storages.hasRoom(req.apiKey.id)),
      routes,
      checkCallbackUrl: (url) => {
        const why = guard.checkUrl(url);
        return why ? `refused: ${why}; allow it with RESHOOT_FETCH_ALLOW_HOSTS` : null;
      },
    });
    if (request.callback) {
      // A name that resolves to this host or its network is refused now, not retried for 20 minutes.
      const why = await guard.checkHost(new URL(request.callback.url));
      if (why) throw new AppError('INVALID_REQUEST', `callback.url: refused: ${why}; allow it with RESHOOT_FETCH_ALLOW_HOSTS`);
    }
    const { taskId, replay } = await tasks.create(req.apiKey.id, request, {
      idempotencyKey,
      rawBody: req.rawBody,
      budgetUsd: req.apiKey.budgetUsd,
    });
    if (replay) reply.header('idempotent-replay', 'true');
    req.log.info({ taskId, model: request.modelName, replay }, 'task created');
    return ok({ taskId });
  });

  app.get<{ Params: { id: string } }>('/v1/tasks/:id', async (req) => {
    const id = req.params.id;
    if (!TASK_ID_RE.test(id)) throw new AppError('NOT_FOUND', `task ${id} not found`);
    return ok(await tasks.get(req.apiKey.id, id));
  });

  app.get<{ Querystring: { page?: string; size?: string } }>('/v1/tasks', async (req) => {
    const { page, size } = normalisePaging(req.query);
    return ok(await tasks.list(req.apiKey.id, page, size));
  });

  app.get<{ Querystring: { from?: string; to?: string } }>('/v1/usage', async (req) => {
    const now = Math.floor(Date.now() / 1000);
    const to = parseTime(req.query.to, 'to', true) ?? now + 1;
    const from = parseTime(req.query.from, 'from', false) ?? to - 30 * 86400;
    if (from >= to) throw new AppError('INVALID_REQUEST', 'from: must be before to');
    return ok(await tasks.usage(req.apiKey.id, from, to));
  });

}

/** Unix seconds, or a YYYY-MM-DD day (UTC; `to` days are inclusive). */
function parseTime(v: string | undefined, field: string, endOfDay: boolean): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\d{1,12}$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const ms = Date.parse(`${v}T00:00:00Z`);
    if (Number.isFinite(ms)) return ms / 1000 + (endOfDay ? 86400 : 0);
  }
  throw new AppError('INVALID_REQUEST', `${field}: expected Unix seconds or a YYYY-MM-DD date (received ${JSON.stringify(v)})`);
}
