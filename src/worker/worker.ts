import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { OUTPUT_EXTENSIONS } from '../contract/models.js';
import type { ReshootExtension } from '../contract/task.js';
import { defaultSeed, transformRequest } from '../contract/transform-request.js';
import type { ReferenceRole } from '../contract/validate.js';
import { releaseInputs, resolveInputs, type ResolveDeps, type ResolvedInput } from '../engine/inputs/resolve.js';
import type { TransformResult } from '../engine/types.js';
import { PermanentTaskError, RetryableTaskError, type TaskErrorCode } from '../errors.js';
import type { Job, JobQueue } from '../queue/types.js';
import { matteKey, type BlobStore } from '../store/blobs/blob-store.js';
import type { CallbackSender } from '../tasks/callbacks.js';
import { storedUpstream, type StoredTaskInput, type TaskRow, type TaskService } from '../tasks/service.js';
import type { EnginePool } from './engine-pool.js';
import type { SceneLibrary } from '../scenes/library.js';
import { pickLibraryScene } from '../scenes/pick.js';
import type { Metrics } from '../metrics.js';
import { watchUpstreamCallback, type UpstreamWakeBus } from '../providers/hiapi/callback.js';

export interface WorkerDeps {
  tasks: TaskService;
  queue: JobQueue;
  blobs: BlobStore;
  pool: EnginePool;
  callbacks: CallbackSender;
  inputs: Omit<ResolveDeps, 'tmpDir'>;
  tmpDir: string;
  logger: Logger;
  metrics?: Metrics;
  concurrency: number;
  taskTimeoutSeconds: number;
  /** what a task without a route (or route `default`) renders with: RESHOOT_DEFAULT_ENGINE */
  defaultEngine?: string;
  /** the operator's scene library (RESHOOT_SCENES_DIR): a prompt naming a tag renders into that photo */
  scenes?: SceneLibrary;
  /**
   * A public link to a stored blob, valid until `expireAt` (Unix s): set when reshoot is reachable
   * (RESHOOT_PUBLIC_URL), so the hiapi upstream fetches the layout from us instead of a data: URI.
   */
  layoutLink?: (key: string, expireAt: number) => string;
  /**
   * hiapi's final callback (set when reshoot is reachable, RESHOOT_PUBLIC_URL): `url` gives a task's
   * callback URL; the render's poller is woken when the callback is heard on `bus` (the API in this
   * process) or found recorded on the task (an API node elsewhere), checked every `storeCheckMs`.
   */
  upstreamCallbacks?: { url: (taskId: string) => string; bus?: UpstreamWakeBus; storeCheckMs?: number };
}

/** Where a generative task's layout is kept while the upstream may still fetch it (removed when the task ends, swept with the outputs). */
export const upstreamLayoutKey = (taskId: string): string => `tasks/${taskId}/upstream-layout.png`;

/** A layout link outlives the task's deadline by this much: the upstream fetches it while the task runs. */
const LAYOUT_LINK_MARGIN_S = 600;

export interface Worker {
  start(): void;
  close(deadlineMs?: number): Promise<void>;
}

/**
 * Claims jobs and carries a task through `handling → archiving → success | fail`. Bad input fails the
 * task at once with a reason; anything else is retried by the queue and fails the task only on the
 * last attempt. Handlers are idempotent: a job re-run after a crash starts the task over.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const log = deps.logger.child({ module: 'worker' });

  const finishFailed = async (taskId: string, code: TaskErrorCode, message: string) => {
    const row = await deps.tasks.fail(taskId, code, message);
    if (row) {
      deps.metrics?.taskFinished('fail');
      await deps.callbacks.schedule(taskId);
    }
  };

  async function handleReshoot(job: Job<'image.reshoot'>, signal: AbortSignal): Promise<void> {
    const { taskId } = job.payload;
    const row = await deps.tasks.load(taskId);
    if (!row || row.status === 'success' || row.status === 'fail') return;
    const tlog = log.child({ taskId, job: job.name, attempt: job.attempt });
    // Runs cut short by a crash count as attempts too: a task that keeps taking its worker down stops here.
    if (job.attempt > job.maxAttempts) {
      tlog.error('task abandoned after repeated worker crashes');
      return finishFailed(taskId, 'TASK_FAILED', `the worker stopped ${job.attempt - 1} times while rendering this task`);
    }
    const input = JSON.parse(row.input) as StoredTaskInput;
    const deadlineMs = row.created * 1000 + deps.taskTimeoutSeconds * 1000 - Date.now();
    if (deadlineMs <= 0) return finishFailed(taskId, 'TASK_TIMEOUT', `the task passed its ${deps.taskTimeoutSeconds} s deadline`);
    const timeout = AbortSignal.timeout(deadlineMs);
    const taskSignal = AbortSignal.any([signal, timeout]);

    // the route picks the engine; a generative one paints through its upstream and locks the product
    const engine = !row.route || row.route === 'default' ? (deps.defaultEngine ?? 'studio') : row.route;
    const layoutLink = engine !== 'studio' ? deps.layoutLink : undefined;
    const callbacks = engine === 'hiapi' ? deps.upstreamCallbacks : undefined;

    await deps.tasks.advance(taskId, 'handling');
    const started = performance.now();
    let refs: Awaited<ReturnType<typeof resolveInputs>> = [];
    const copies: ResolvedInput[] = [];
    try {
      // A later turn starts from its parent's own sources, never from the parent's output pixels,
      // so the product stays the original photograph however many turns follow.
      const parent = row.parent_id ? await deps.tasks.load(row.parent_id) : undefined;
      const inherited = parent?.sources ? (JSON.parse(parent.sources) as string[]) : [];
      const sceneFrom = input.scene_from ? await deps.tasks.load(input.scene_from) : undefined;
      const urls = inherited.length > 0 ? input.input_urls.slice(1) : input.input_urls;

      const tFetch = performance.now();
      refs = await resolveInputs(urls, { ...deps.inputs, tmpDir: deps.tmpDir }, taskSignal, input.input_urls.length - urls.length);
      const sources = [...inherited, ...(await Promise.all(refs.map((r) => persistSource(deps.blobs, r))))];
      // The engine reads files: this turn's references already are; the inherited sources are copied
      // out of the blob store (which may be a bucket) for the run.
      for (const key of inherited) {
        const bytes = await deps.blobs.read(key);
        if (!bytes) throw new PermanentTaskError('input_urls[0]: the earlier turn\'s source image is no longer stored');
        copies.push({ path: await writeTempCopy(deps.tmpDir, bytes), temporary: true });
      }
      const paths = [...copies.map((c) => c.path), ...refs.map((r) => r.path)];
      const fetchMs = Math.round(performance.now() - tFetch);

      const seed = input.seed ?? sceneFrom?.seed ?? parent?.seed ?? defaultSeed(taskId);
      await deps.tasks.recordRun(taskId, sources, seed);
      const base = sceneFrom ?? parent;
      const basePlan = base?.reshoot ? (JSON.parse(base.reshoot) as ReshootExtension).plan : undefined;
      const parentExt = parent?.reshoot ? (JSON.parse(parent.reshoot) as ReshootExtension) : undefined;
      const roles = parent ? rolesForTurn(parent, inherited.length, input.roles) : input.roles;
      const request = transformRequest(
        { ...input, roles },
        {
          tier: input.tier,
          sources: paths as string[],
          seed,
          base: basePlan === undefined ? undefined : { plan: basePlan, mode: sceneFrom ? 'reuse' : 'edit' },
        },
      );
      // a library scene the prompt names (or the base plan was rendered into): a copy of its photo for this run
      const libraryScene = await pickLibraryScene(deps.scenes, input.prompt, request.basePlan === undefined ? undefined : { plan: request.basePlan, mode: request.planMode ?? 'edit' }, deps.tmpDir);
      if (libraryScene) {
        copies.push({ path: libraryScene.path, temporary: true });
        request.libraryScene = libraryScene;
      }
      // An upstream task an earlier run created (stored as soon as the upstream answered the create) is
      // polled again instead of creating another: a restart never pays the upstream twice, even past
      // the upstream's idempotency window. OpenAI-compatible edits answer at once and store nothing.
      const stored = storedUpstream(row);
      if (engine !== 'studio') {
        request.generative = { engine, lock: input.lock ?? 'strict', model: row.model, jobKey: taskId, ...(stored?.engine === engine ? { upstreamTaskId: stored.taskId } : {}) };
        if (stored?.engine === engine) tlog.info({ upstream: stored }, 'resuming the upstream task an earlier run created');
      }
      // the studio's Fix cutout edits the mattes this render used (GET /v1/tasks/:id/matte)
      request.keepMattes = true;
      // D7: archiving covers encoding and saving, so it starts with the engine's encode stage.
      const result = await deps.pool.transform(request, taskSignal, {
        stage: (stage) => {
          if (stage === 'encode') void deps.tasks.advance(taskId, 'archiving').catch((err: unknown) => tlog.warn({ err }, 'could not mark the task archiving'));
        },
        upstream: (created) => {
          void deps.tasks.recordUpstream(taskId, created).catch((err: unknown) => tlog.warn({ err, upstream: created }, 'could not store the upstream task'));
        },
        // The link is the same for every run of the task (its expiry is fixed by the task's deadline),
        // so a create retried under the same Idempotency-Key sends the same body.
        ...(layoutLink
          ? {
              layoutUrl: async (png: Buffer) => {
                const key = upstreamLayoutKey(taskId);
                await deps.blobs.put(key, png);
                return layoutLink(key, row.created + deps.taskTimeoutSeconds + LAYOUT_LINK_MARGIN_S);
              },
            }
          : {}),
        // hiapi posts its final callback to us; hearing it (here or through the store) wakes the poller
        ...(callbacks
          ? {
              upstreamCallback: {
                url: callbacks.url(taskId),
                subscribe: (wake: () => void) =>
                  watchUpstreamCallback(taskId, wake, {
                    bus: callbacks.bus,
                    recorded: (id) => deps.tasks.upstreamFinal(id),
                    everyMs: callbacks.storeCheckMs ?? 1000,
                    onError: (err) => tlog.warn({ err }, 'could not read the upstream callback\'s record'),
                  }),
              },
            }
          : {}),
      });
      const report = result.report;
      const reshoot: ReshootExtension = {
        engine: report.engine,
        plan: report.plan,
        placement: report.placement,
        fidelity: report.fidelity,
        ...(report.render ? { render: report.render } : {}),
        ...(report.warnings?.length ? { warnings: report.warnings } : {}),
        ...(report.cutout ? { cutout: report.cutout } : {}),
        ...(report.lock ? { lock: report.lock } : {}),
        ...(report.upstream ? { upstream: report.upstream } : {}),
        ...(report.fallback ? { fallback: report.fallback } : {}),
        timings: { fetch: fetchMs, ...report.timings },
        seed,
      };
      if (parent) {
        const turn = (parentExt?.lineage?.turn ?? 1) + 1;
        reshoot.lineage = { parent: parent.id, turn, root: parentExt?.lineage?.root ?? parent.id };
      }
      if (sceneFrom) reshoot.scene_from = sceneFrom.id;
      await deps.tasks.advance(taskId, 'archiving', reshoot);
      const key = `tasks/${taskId}/0.${OUTPUT_EXTENSIONS[result.format]}`;
      const tStore = performance.now();
      try {
        await deps.blobs.put(key, result.data);
      } catch (err) {
        tlog.error({ err }, 'output could not be stored');
        if (job.attempt >= job.maxAttempts) return finishFailed(taskId, 'STORAGE_UNAVAILABLE', `the output could not be saved (${(err as Error).message})`);
        throw err;
      }
      const mattes = await storeMattes(deps.blobs, taskId, result.mattes ?? [], tlog);
      if (mattes.length) reshoot.mattes = mattes;
      reshoot.timings = { ...reshoot.timings, store: Math.round(performance.now() - tStore), total: Math.round(performance.now() - started) };
      if (await deps.tasks.succeed(taskId, [{ key, bytes: result.data.length }], reshoot)) {
        deps.metrics?.taskFinished('success', reshoot.timings);
        await deps.callbacks.schedule(taskId);
        tlog.info({ ms: reshoot.timings.total }, 'task done');
      }
    } catch (err) {
      if (timeout.aborted) return finishFailed(taskId, 'TASK_TIMEOUT', `the task passed its ${deps.taskTimeoutSeconds} s deadline`);
      if (signal.aborted) throw err; // shutting down: the queue hands the job back
      if (err instanceof PermanentTaskError) {
        tlog.info({ reason: err.message }, 'task failed');
        return finishFailed(taskId, err.code, err.message);
      }
      if (job.attempt >= job.maxAttempts) {
        tlog.error({ err }, 'task failed after retries');
        const reason = err instanceof RetryableTaskError ? err.message : `internal error while rendering (the server log has the details under task ${taskId})`;
        return finishFailed(taskId, 'TASK_FAILED', reason);
      }
      tlog.warn({ err }, 'task attempt failed; will retry');
      throw err;
    } finally {
      await releaseInputs([...refs, ...copies]);
      // the upstream no longer fetches the layout once the task is over; a run handed back (shutdown,
      // a retry) leaves it for the next run, which polls the same upstream task
      if (layoutLink) {
        const now = await deps.tasks.load(taskId).catch(() => undefined);
        if (now?.status === 'success' || now?.status === 'fail') {
          await deps.blobs.remove(upstreamLayoutKey(taskId)).catch((err: unknown) => tlog.warn({ err }, 'could not remove the upstream layout; the janitor sweeps it with the output'));
        }
      }
    }
  }

  return {
    start() {
      deps.queue.work(
        {
          'image.reshoot': handleReshoot,
          'callback.deliver': (job, signal) => deps.callbacks.deliver(job, signal),
        },
        // Callbacks are short network calls; they get their own slots so they never wait behind renders.
        { concurrency: deps.concurrency + 4, perName: { 'image.reshoot': deps.concurrency, 'callback.deliver': 4 } },
      );
    },
    close: (deadlineMs) => deps.queue.close(deadlineMs),
  };
}

/**
 * Keeps a reference for later turns under a content hash, so the same image is stored once and
 * outlives the upload or output it came from (those expire with their links). Sources no task can
 * still build on are removed by the janitor.
 */
async function persistSource(blobs: BlobStore, ref: ResolvedInput): Promise<string> {
  const bytes = await fs.readFile(ref.path);
  const key = `sources/${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}`;
  // touching a blob that is already there also tells the janitor it is in use again
  if (!(await blobs.touch(key))) await blobs.put(key, bytes);
  return key;
}

async function writeTempCopy(dir: string, bytes: Buffer): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `source-${Date.now()}-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(file, bytes);
  return file;
}

/**
 * Keeps the mattes a render cut its products with, for the studio's Fix cutout (served by
 * GET /v1/tasks/:id/matte). They are a convenience, not the output: one that cannot be stored is
 * left out of the task and logged, and the task still succeeds.
 */
async function storeMattes(
  blobs: BlobStore,
  taskId: string,
  mattes: NonNullable<TransformResult['mattes']>,
  log: Logger,
): Promise<NonNullable<ReshootExtension['mattes']>> {
  const kept: NonNullable<ReshootExtension['mattes']> = [];
  for (const m of mattes) {
    try {
      await blobs.put(matteKey(taskId, m.ref), m.png);
      kept.push({ ref: m.ref, width: m.width, height: m.height });
    } catch (err) {
      log.warn({ err, ref: m.ref }, 'matte could not be stored');
    }
  }
  return kept;
}

/** A turn's roles: the parent's for the sources it inherits, then the caller's for the rest. */
function rolesForTurn(parent: TaskRow, inherited: number, own: ReferenceRole[] | undefined): ReferenceRole[] | undefined {
  const parentRoles = (JSON.parse(parent.input) as StoredTaskInput).roles;
  if (!parentRoles && !own) return undefined;
  const head: ReferenceRole[] = Array.from({ length: inherited }, (_, i) => parentRoles?.[i] ?? 'product');
  return [...head, ...(own?.slice(1) ?? [])];
}

export const workerTmpDir = (dataDir: string): string => path.join(dataDir, 'tmp');
