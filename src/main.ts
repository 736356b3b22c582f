import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { createRedisRateLimiter } from './api/rate-limit-redis.js';
import { createServer } from './api/server.js';
import { createMetrics } from './metrics.js';
import { engineOptions, type Config } from './config.js';
import { createAddressGuard } from './engine/inputs/address-guard.js';
import { createSqliteQueue } from './queue/local/sqlite-queue.js';
import { createBullQueue, redisConnection } from './queue/bullmq/bullmq-queue.js';
import { createPostgresQueue } from './queue/postgres/pg-queue.js';
import { JOB, type JobQueue } from './queue/types.js';
import { createBlobStore } from './store/blobs/index.js';
import { createDiskSpace } from './store/disk-space.js';
import { createUrlSigner } from './store/blobs/signed-urls.js';
import { openStore, type OpenedStore } from './store/open.js';
import { startCheckpointer } from './store/sqlite/checkpointer.js';
import { createCallbackSender } from './tasks/callbacks.js';
import { createJanitor } from './tasks/janitor.js';
import { createKeyService, type KeyService } from './tasks/keys.js';
import { loadPricing, upstreamPricing } from './tasks/pricing.js';
import { createTaskService, reconcileQueued } from './tasks/service.js';
import { createStorageService } from './tasks/storages.js';
import { loadSceneLibrary, type SceneLibrary } from './scenes/library.js';
import { createUpstreamWakeBus, upstreamCallbackUrl } from './providers/hiapi/callback.js';
import { upstreamSettings } from './providers/index.js';
import { createEnginePool } from './worker/engine-pool.js';
import { createWorker, workerTmpDir } from './worker/worker.js';

export interface Reshoot {
  config: Config;
  app: FastifyInstance | null;
  /** the address the API listens on, when the role serves HTTP */
  url: string | null;
  /** the key made on first start (printed once), if one was made */
  firstKey: string | null;
  keys: KeyService;
  close(): Promise<void>;
}

export function readVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export { databasePath } from './store/open.js';

/** Opens the store and the key service alone (the `reshoot keys` commands). */
export async function openKeys(config: Config, logger?: Logger): Promise<{ opened: OpenedStore; keys: KeyService }> {
  // a pooled Postgres connection the server dropped is replaced on the next query; it is logged, never thrown
  const opened = await openStore(config, { onPoolError: (err) => logger?.warn({ module: 'store', err }, 'a database connection failed') });
  try {
    return { opened, keys: await createKeyService({ store: opened.store, envKeys: config.auth.envKeys, defaultWebhookSecret: config.callbacks.webhookSecret }) };
  } catch (err) {
    await opened.store.close();
    throw err;
  }
}

/** The signing secret for download links: from config, or made once and kept in the database (the first process to start makes it). */
async function signingSecret(opened: OpenedStore, config: Config): Promise<string> {
  if (config.signing.secret) return config.signing.secret;
  return opened.store.settings.getOrInit('url_signing_secret', randomBytes(32).toString('base64url'));
}

/**
 * The job queue: BullMQ on RESHOOT_QUEUE_URL, or else in the store's own database, so a task and
 * its job are committed together.
 */
function openQueue(opened: OpenedStore, config: Config, logger: Logger): JobQueue {
  const opts = { logger, leaseMs: config.queue.leaseSeconds * 1000, defaultMaxAttempts: config.queue.maxAttempts };
  if (config.queue.url) return createBullQueue({ url: config.queue.url, ...opts });
  return opened.kind === 'sqlite' ? createSqliteQueue({ db: opened.db, ...opts }) : createPostgresQueue({ pool: opened.pool, ...opts });
}

/** The scene library (RESHOOT_SCENES_DIR): photos without a sidecar are logged, not fatal. */
async function openSceneLibrary(dir: string, config: Config, logger: Logger): Promise<SceneLibrary> {
  const { library, skipped } = await loadSceneLibrary(dir, { maxBytes: config.http.uploadLimitBytes, maxPixels: config.engine.maxInputPixels });
  for (const file of skipped) logger.warn({ module: 'scenes', file }, 'a photo without a <name>.json sidecar is not in the scene library');
  logger.info({ module: 'scenes', dir, scenes: library.scenes.length }, 'scene library read');
  return library;
}

/**
 * The composition root: config → store, blobs, queue, engine pool → API and/or worker.
 * Nothing else wires modules together.
 */
export async function startReshoot(config: Config, opts: { logger?: Logger } = {}): Promise<Reshoot> {
  const logger = opts.logger ?? pino({ level: config.log.level });
  fs.mkdirSync(config.dataDir, { recursive: true });
  // read before anything opens: a bad sidecar or photo stops the start, naming the file
  const scenes = config.scenes.dir ? await openSceneLibrary(config.scenes.dir, config, logger) : undefined;
  const { opened, keys } = await openKeys(config, logger);
  const { store } = opened;
  if (opened.migrated.length > 0) logger.info({ module: 'store', database: opened.kind, versions: opened.migrated }, 'database schema migrated');
  const version = readVersion();
  const checkpointer =
    opened.kind === 'sqlite' ? startCheckpointer(opened.db, opened.file, 200, (message) => logger.warn({ module: 'store', message }, 'WAL checkpoint failed')) : null;

  let publicUrl = config.http.publicUrl;
  const secret = await signingSecret(opened, config);
  const signer = createUrlSigner(secret, () => publicUrl);
  // hiapi's callbacks: the API records them on the task and, in this process, wakes the worker at once
  const wakeBus = config.engines.hiapi ? createUpstreamWakeBus() : undefined;
  const blobs = createBlobStore(config);
  const pricing = loadPricing(config.pricing, upstreamPricing(config.engines));
  const guard = createAddressGuard(config.fetch.allowHosts);
  const queue = openQueue(opened, config, logger);
  const tasks = createTaskService({
    store,
    queue,
    signer,
    pricing,
    maxQueueDepth: config.queue.maxDepth,
    outputTtlSeconds: config.tasks.outputTtlSeconds,
    idempotencyTtlSeconds: config.tasks.idempotencyTtlSeconds,
    onEnqueueError: (taskId, err) => logger.error({ module: 'tasks', taskId, err }, 'the render job could not be queued; the reconciler will queue it'),
  });
  let reconciler: NodeJS.Timeout | null = null;
  let limiter: ReturnType<typeof createRedisRateLimiter> | null = null;
  const metrics = createMetrics({ tasksByStatus: () => tasks.countByStatus(), queueDepth: () => queue.depth(JOB.reshoot) });

  let worker: ReturnType<typeof createWorker> | null = null;
  let pool: ReturnType<typeof createEnginePool> | null = null;
  let janitor: ReturnType<typeof createJanitor> | null = null;
  let app: FastifyInstance | null = null;
  let url: string | null = null;

  let closing: Promise<void> | null = null;
  const close = () => {
    // Stop taking requests, stop claiming jobs, let running work finish (bounded), then close the store.
    // Each step runs whatever the one before did (a full disk can fail a final write), so the
    // database is always closed; the first failure is reported once all have run.
    closing ??= (async () => {
      const steps: Array<() => unknown> = [
        () => app && closeApp(app),
        () => limiter?.close(),
        () => janitor?.stop(),
        () => reconciler && clearInterval(reconciler),
        () => worker?.close(30_000),
        () => queue.close(1_000),
        () => pool?.close(),
        () => guard.dispatcher.close(),
        () => checkpointer?.stop(),
        () => store.close(),
      ];
      const failures: unknown[] = [];
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          logger.error({ err }, 'shutdown step failed');
          failures.push(err);
        }
      }
      if (failures.length > 0) throw failures[0];
    })();
    return closing;
  };

  // The port first: a server that cannot listen (EADDRINUSE, EACCES) must not have started a worker
  // and a sweep on the data dir. Whatever fails on the way closes what was started, then throws.
  try {
    if (config.role !== 'worker') {
      const storages = createStorageService({ store, blobs, signer, capBytes: config.tasks.persistentCapBytes });
      const disk = createDiskSpace(config.dataDir, config.minFreeBytes);
      if (config.queue.url && config.rateLimit) {
        // with Redis at hand the limits hold across API nodes
        limiter = createRedisRateLimiter(config.rateLimit, redisConnection(config.queue.url), {
          onError: (err) => logger.warn({ module: 'api', err }, 'the shared rate limiter cannot reach Redis; requests are let through'),
        });
      }
      app = await createServer({
        config, logger, store, tasks, storages, keys, blobs, disk, signer, pricing, guard, metrics, version, limiter: limiter ?? undefined, queue, scenes,
        ...(config.engines.hiapi ? { upstreamCallbacks: { tokenSecret: secret, webhookSecret: config.engines.hiapi.webhookSecret, bus: wakeBus } } : {}),
      });
      url = await app.listen({ host: config.http.host, port: config.http.port });
      const addr = app.server.address();
      if (addr && typeof addr === 'object') url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
      if (!config.http.publicUrlSet && config.http.port === 0) publicUrl = url;
    }
    if (config.role !== 'api') {
      // the generative upstreams cross into the engine threads as plain data (no workflow path, no webhook secret)
      pool = createEnginePool({ ...engineOptions(config), sharpConcurrency: 1 }, config.engine.threads, logger, upstreamSettings(config));
      if (config.engines.hiapi && !config.http.publicUrlSet) {
        logger.warn({ module: 'worker' }, 'the real hiapi fetches input_urls over the internet; set RESHOOT_PUBLIC_URL (the hiapi upstream is sent the layout as a data: URI until then)');
      }
      const callbacks = createCallbackSender({
        store,
        tasks,
        keys,
        queue,
        guard,
        logger,
        defaultSecret: config.callbacks.webhookSecret,
        timeoutMs: config.callbacks.timeoutMs,
        retryScheduleSeconds: config.callbacks.retryScheduleSeconds,
        userAgent: `reshoot/${version} (callbacks)`,
      });
      worker = createWorker({
        tasks,
        queue,
        blobs,
        pool,
        callbacks,
        metrics,
        logger,
        tmpDir: workerTmpDir(config.dataDir),
        concurrency: config.queue.concurrency,
        taskTimeoutSeconds: config.tasks.timeoutSeconds,
        defaultEngine: config.engines.default,
        scenes,
        // hiapi fetches the layout from /files (on S3 with presign, a 302 to the bucket) when reshoot is reachable
        ...(config.http.publicUrlSet ? { layoutLink: (key: string, expireAt: number) => signer.sign(key, expireAt) } : {}),
        // hiapi posts its final callback to us when reshoot is reachable; the upstream is then polled every RESHOOT_HIAPI_UPSTREAM_CALLBACK_POLL_MS only
        ...(config.http.publicUrlSet && config.engines.hiapi ? { upstreamCallbacks: { url: (taskId: string) => upstreamCallbackUrl(publicUrl, secret, taskId), bus: wakeBus } } : {}),
        inputs: {
          guard,
          limits: { maxBytes: config.fetch.maxBytes, timeoutMs: config.fetch.timeoutMs, maxRedirects: config.fetch.maxRedirects },
          maxPixels: config.engine.maxInputPixels,
          ownKey: (url) => signer.ownKey(url),
          readBlob: (key) => blobs.read(key),
        },
      });
      worker.start();
      janitor = createJanitor({ store, queue, blobs, logger, outputTtlSeconds: config.tasks.outputTtlSeconds });
      // a render job lost between its task's commit and its add (a crash) is added again
      const reconcile = async () => {
        const n = await reconcileQueued({ store, queue, graceMs: 60_000 });
        if (n > 0) logger.info({ module: 'queue', tasks: n }, 'queued tasks checked for a lost render job');
      };
      if (queue.repeatEvery) {
        // one sweep (and one reconcile) per interval for the whole cluster
        const j = janitor;
        queue.repeatEvery('janitor.sweep', 10 * 60_000, async () => void (await j.sweep()));
        if (!queue.transactional) queue.repeatEvery('tasks.reconcile', 30_000, reconcile);
      } else {
        janitor.start();
        if (!queue.transactional) {
          reconciler = setInterval(() => void reconcile().catch((err: unknown) => logger.warn({ module: 'queue', err }, 'queued tasks could not be reconciled')), 30_000).unref();
        }
      }
    }
  } catch (err) {
    await close().catch((closeErr: unknown) => logger.error({ err: closeErr }, 'cleanup after a failed start failed'));
    throw err;
  }
  // Made only once the server is up, so a start that failed cannot have spent the one showing of it.
  let firstKey: string | null = null;
  if (config.role !== 'worker' && config.auth.createFirstKey && config.auth.envKeys.length === 0 && (await keys.activeCount()) === 0) {
    firstKey = (await keys.create('default')).key;
  }
  logger.info({ url, role: config.role, dataDir: config.dataDir, blobs: blobs.location, version }, 'reshoot started');
  return { config, app, url, firstKey, keys, close };
}

/**
 * Fastify's close waits for every open connection but closes only those idle when it starts: a
 * keep-alive connection whose response (a download) ended a moment later stayed open until the
 * client let it go (Fastify announces 72 s), and shutdown waited that long. Connections are closed
 * as they turn idle; a response still being sent is let finish.
 */
async function closeApp(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
