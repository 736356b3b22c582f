import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { AppError, ERRORS } from '../errors.js';
import type { AddressGuard } from '../engine/inputs/address-guard.js';
import type { BlobStore } from '../store/blobs/local-blobs.js';
import type { UrlSigner } from '../store/blobs/signed-urls.js';
import type { KeyService, ApiKeyRecord } from '../tasks/keys.js';
import type { Pricing } from '../tasks/pricing.js';
import type { TaskService } from '../tasks/service.js';
import type { StorageService } from '../tasks/storages.js';
import type { JobQueue } from '../queue/types.js';
import type { Store } from '../store/types.js';
import type { DiskSpace } from '../store/disk-space.js';
import { failure } from './envelope.js';
import { parseJsonBody } from './json-body.js';
import type { Metrics } from '../metrics.js';
import { createRateLimiter, type RateDecision, type RateLimiter } from './rate-limit.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerMatteRoutes } from './routes/matte.js';
import { registerUploadRoutes } from './routes/uploads.js';
import { registerFileRoutes } from './routes/files.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerStorageRoutes } from './routes/storages.js';
import { registerReferenceRoutes } from './routes/reference.js';
import { registerStudio } from './routes/studio.js';
import { registerSceneRoutes } from './routes/scenes.js';
import { registerUpstreamCallbackRoute, type UpstreamCallbackDeps } from './routes/upstream-callback.js';
import type { SceneLibrary } from '../scenes/library.js';

export interface ServerDeps {
  config: Config;
  logger: Logger;
  store: Store;
  /** the rate limiter shared by API nodes (Redis); absent: counted in this process */
  limiter?: RateLimiter;
  /** the job queue, for /readyz when it lives outside the database */
  queue?: Pick<JobQueue, 'ping'>;
  tasks: TaskService;
  storages: StorageService;
  keys: KeyService;
  blobs: BlobStore;
  disk: DiskSpace;
  signer: UrlSigner;
  pricing: Pricing;
  guard: AddressGuard;
  metrics: Metrics;
  version: string;
  /** the operator's scene library (RESHOOT_SCENES_DIR), listed at GET /v1/scenes */
  scenes?: SceneLibrary;
  /** hiapi's final callbacks for the upstream tasks reshoot created (POST /upstream/hiapi/callback/:taskId), when the hiapi engine is configured */
  upstreamCallbacks?: Omit<UpstreamCallbackDeps, 'tasks'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKeyRecord;
    rawBody?: Buffer;
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const REQUEST_TIMEOUT_MS = 60_000;

/** Builds the HTTP app without listening, so tests can drive it in-process or on port 0. */
export async function createServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger.child({ module: 'api' }) as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    // Requests are logged by our own hooks (refusals at info, failures at error), not twice per request.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A whole request (headers and body) gets this long: a body that never finishes does not hold a
    // socket for good. A 20 MB upload needs about 350 KB/s.
    requestTimeout: REQUEST_TIMEOUT_MS,
    // What the router refuses before any route runs (a bad percent-encoding, an over-long path
    // parameter) is answered in the envelope like everything else.
    frameworkErrors: (err, req, reply: FastifyReply) => {
      reply.header('x-request-id', req.id);
      const e = err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new AppError('NOT_FOUND', 'not found: a path segment is too long')
        : new AppError('INVALID_REQUEST', 'malformed URL');
      req.log.info({ code: e.code, reason: err.code }, 'request refused');
      return reply.status(e.status).send(failure(e));
    },
    // A request Node's parser refuses (a malformed request line, a bad header) never reaches the
    // router; it is still answered in the envelope, then the connection is closed.
    clientErrorHandler: (err, socket) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const body = JSON.stringify(failure(new AppError('INVALID_REQUEST', 'malformed HTTP request')));
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    },
  });
  app.decorateRequest('apiKey', null as unknown as ApiKeyRecord);

  // JSON bodies are kept as raw bytes too: idempotency compares the exact bytes sent (contract §8).
  app.removeAllContentTypeParsers();
  const parseJson = (req: FastifyRequest, body: Buffer) => {
    req.rawBody = body;
    return parseJsonBody(body, req.headers['content-type']);
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    try {
      done(null, parseJson(req, body as Buffer));
    } catch (err) {
      done(err as Error);
    }
  });
  // No Content-Type is read as JSON (D12); any other type is refused with 415.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    if (req.headers['content-type'] === undefined) {
      try {
        done(null, parseJson(req, body as Buffer));
      } catch (err) {
        done(err as Error);
      }
      return;
    }
    done(new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json (received ${req.headers['content-type'].slice(0, 100)})`));
  });
  await app.register(multipart, { limits: { files: 1, fileSize: config.http.uploadLimitBytes, fields: 10, parts: 12 } });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.httpRequest(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => {
    const appErr = toAppError(err);
    if (appErr.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: appErr.code, reason: appErr.message, url: req.url }, 'request refused');
    if (appErr.retryAfter !== undefined) reply.header('retry-after', String(appErr.retryAfter));
    else if (appErr.status === 503) reply.header('retry-after', '10');
    return reply.status(appErr.status).send(failure(appErr));
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AppError('NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`);
    return reply.status(404).send(failure(e));
  });

  const limiter = config.rateLimit ? (deps.limiter ?? createRateLimiter(config.rateLimit)) : null;

  // Everything under /v1 needs a key; the limiter runs after authentication (budgets are per key).
  // The check is attached to each matched route, never decided from the raw request URL: the router
  // decodes the path (`/%76%31/models` is `/v1/models`), so a prefix test on `req.url` can be walked
  // around, while a route's own hook runs whatever spelling reached it.
  const rateHeaders = (reply: FastifyReply, d: RateDecision) => {
    reply.header('x-ratelimit-limit', String(d.limit));
    reply.header('x-ratelimit-remaining', String(d.remaining));
    reply.header('x-ratelimit-reset', String(d.reset));
  };
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    const key = m ? await deps.keys.authenticate(m[1]!) : null;
    const budget = req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'create';
    const limit = config.rateLimit ? (budget === 'create' ? config.rateLimit.createPerMinute : config.rateLimit.readPerMinute) : 0;
    if (!key) {
      // D13 puts the three headers on every /v1 answer; a caller without a key has its full budget.
      if (config.rateLimit) rateHeaders(reply, { limit, remaining: limit, reset: (Math.floor(Date.now() / 60_000) + 1) * 60 });
      throw new AppError('UNAUTHORIZED', m ? 'invalid API key' : 'missing API key: send Authorization: Bearer <key>');
    }
    req.apiKey = key;
    if (!limiter) return;
    const release = await limiter.enter(key.id);
    reply.raw.once('close', release);
    try {
      rateHeaders(reply, await limiter.take(key.id, budget));
    } catch (err) {
      release();
      if (err instanceof AppError && err.retryAfter !== undefined) {
        rateHeaders(reply, { limit, remaining: 0, reset: Math.floor(Date.now() / 1000) + err.retryAfter });
      }
      throw err;
    }
  };
  app.addHook('onRoute', (route) => {
    if (!isApiRoute(route.url)) return;
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [authenticate, ...own];
  });

  registerTaskRoutes(app, deps);
  registerMatteRoutes(app, deps);
  registerUploadRoutes(app, deps);
  registerFileRoutes(app, deps);
  registerStorageRoutes(app, deps);
  registerMetaRoutes(app, deps);
  registerReferenceRoutes(app, deps);
  registerSceneRoutes(app, deps);
  if (deps.upstreamCallbacks) registerUpstreamCallbackRoute(app, { tasks: deps.tasks, ...deps.upstreamCallbacks });
  await registerStudio(app, deps);
  return app;
}

/** Refuses a request that would write while the data disk is under its free-space floor. */
export function requireDiskSpace(disk: DiskSpace): void {
  if (disk.ok()) return;
  throw new AppError('STORAGE_UNAVAILABLE', `the data disk has less than ${Math.round(disk.minFreeBytes / 2 ** 20)} MB free; nothing was created`, { retryAfter: 30 });
}

/** The routes that need a key: the API under `/v1`, as declared (not as a client spelled the path). */
export const isApiRoute = (declaredUrl: string): boolean => declaredUrl === '/v1' || declaredUrl.startsWith('/v1/');

/** Storage that refuses writes (a full disk, an I/O error): a reason to come back later, not a server fault. */
const isStorageFailure = (code: string | undefined): boolean =>
  code !== undefined && (/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY)/.test(code) || code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS');

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  if (isStorageFailure(e.code)) {
    return new AppError('STORAGE_UNAVAILABLE', 'storage is refusing writes (is the disk full?); nothing was created', { cause: err, retryAfter: 30 });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', e.message ?? undefined);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', e.message ?? undefined);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('INVALID_REQUEST', 'body: not valid JSON');
    default:
      break;
  }
  if (e.validation || (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)) {
    const status = e.statusCode ?? 400;
    const code = (Object.keys(ERRORS) as Array<keyof typeof ERRORS>).find((k) => ERRORS[k] === status) ?? 'INVALID_REQUEST';
    return new AppError(code, e.message || undefined);
  }
  return new AppError('INTERNAL_ERROR', 'internal error', { cause: err });
}
