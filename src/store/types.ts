import type { PoolClient } from 'pg';
import type { TaskStatus } from '../contract/task.js';
import type { Db } from './sqlite/database.js';

/**
 * The repositories the service code talks to. Two implementations: `sqlite/` (the embedded default)
 * and `postgres/` (RESHOOT_DATABASE_URL). Every method is asynchronous, and each operation that must
 * be atomic (an idempotency claim, a create with its budget check and its job, a status transition,
 * an edit of a task's outputs) is one method, so callers never hold a transaction open.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  tasks: TaskRepository;
  idempotency: IdempotencyRepository;
  keys: KeyRepository;
  callbacks: CallbackRepository;
  uploads: UploadRepository;
  settings: SettingsRepository;
  outputs: OutputRepository;
  sweep: SweepRepository;
  /** a round trip to the database (`/readyz`) */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The transaction a create runs in, handed to the job queue so a queue that lives in the same
 * database enqueues inside it (the task and its job are committed together or not at all).
 */
export type StoreTx = { kind: 'sqlite'; db: Db } | { kind: 'postgres'; client: PoolClient };

/** A stored output: the blob key and when its link expires. */
export interface StoredOutput {
  key: string;
  expireAt: number;
  /** the file's size (absent on outputs stored before sizes were kept) */
  bytes?: number;
  /** kept until deleted (storage: persistent, or promoted); its link is signed to PERSISTENT_EXPIRE_AT */
  persistent?: true;
  /** deleted through /v1/storages/delete: its file is gone */
  deleted?: true;
}

export interface TaskRow {
  id: string;
  key_id: string;
  model: string;
  status: TaskStatus;
  created: number;
  completed: number;
  storage: 'temp' | 'persistent';
  route: string | null;
  input: string;
  callback_url: string | null;
  outputs: string | null;
  error_code: string | null;
  error_message: string | null;
  reshoot: string | null;
  cost_usd: number;
  parent_id: string | null;
  /** JSON array of blob keys: the references this task rendered from (kept for later turns) */
  sources: string | null;
  seed: number | null;
  /** JSON `{ engine, taskId }`: the generative upstream's task, once the upstream created it */
  upstream: string | null;
  /** the engine the task was priced for (null on tasks created before engines were recorded) */
  engine: string | null;
  /** the upstream's part of cost_usd (0 for the studio) */
  upstream_usd: number;
  /** ms: when the generative upstream's callback first said its task is final (the poller asks the upstream then) */
  upstream_final: number | null;
}

export interface NewTask {
  id: string;
  key_id: string;
  model: string;
  created: number;
  storage: 'temp' | 'persistent';
  route: string | null;
  input: string;
  callback_url: string | null;
  cost_usd: number;
  /** the engine the route resolves to (studio, hiapi, openai, comfyui) */
  engine: string;
  /** what the upstream charges for the task, part of cost_usd; 0 for the studio */
  upstream_usd: number;
  parent_id: string | null;
  updated_ms: number;
}

export interface CreateOptions {
  /** the caller's claimed idempotency key: it is pointed at the new task in the same transaction */
  idempotencyKey?: string;
  /** refuse (nothing written) when the key's spend plus this task's cost would pass it */
  budgetUsd?: number | null;
  /** enqueues the task's job; runs inside the create's transaction */
  enqueue(tx: StoreTx): unknown;
}

export type CreateOutcome = { created: true } | { created: false; spentUsd: number };

export interface Finish {
  id: string;
  status: 'success' | 'fail';
  completed: number;
  outputs: string | null;
  error_code: string | null;
  error_message: string | null;
  reshoot: string | null;
  now: number;
}

/** One UTC day's tasks of one model on one engine; failed tasks count nothing in `usd` and `upstream_usd`. */
export interface UsageDay {
  day: string;
  model: string;
  /** the engine the tasks were priced for (tasks from before engines were recorded: their route, else studio) */
  engine: string;
  tasks: number;
  succeeded: number;
  failed: number;
  usd: number;
  upstream_usd: number;
}

export interface TaskRepository {
  /** inserts the task, checks the budget and enqueues its job in one transaction */
  create(task: NewTask, opts: CreateOptions): Promise<CreateOutcome>;
  get(id: string): Promise<TaskRow | undefined>;
  getOwned(id: string, keyId: string): Promise<TaskRow | undefined>;
  /** newest first */
  list(keyId: string, limit: number, offset: number): Promise<TaskRow[]>;
  count(keyId: string): Promise<number>;
  /** status := `status` unless the task is terminal; false when it was */
  advance(id: string, status: 'handling' | 'archiving', reshoot: string | null, nowMs: number): Promise<boolean>;
  /** the terminal transition; null when the task was terminal already (a second finish changes nothing) */
  finish(f: Finish): Promise<TaskRow | null>;
  recordRun(id: string, sources: string, seed: number): Promise<void>;
  /**
   * stores the upstream's task (JSON `{ engine, taskId }`) on a task that is not terminal; false when it
   * was. Another task than the one stored before (created again) clears the callback's record (markUpstreamFinal)
   */
  recordUpstream(id: string, upstream: string): Promise<boolean>;
  /**
   * Records that the upstream's callback said its task is final, once: `marked` for the first,
   * `again` for a later or concurrent one, `finished` when the task is terminal, `unknown` when there is no such task.
   */
  markUpstreamFinal(id: string, nowMs: number): Promise<'marked' | 'again' | 'finished' | 'unknown'>;
  /** when the upstream's callback was recorded (ms), null when it was not (one column by primary key: the poller asks often) */
  upstreamFinal(id: string): Promise<number | null>;
  /** tasks still queued and untouched since before `beforeMs` (at most `limit`), oldest first */
  queuedBefore(beforeMs: number, limit: number): Promise<string[]>;
  countByStatus(): Promise<Array<{ status: string; n: number }>>;
  /** USD charged to the key (failed tasks are not charged) */
  spent(keyId: string): Promise<number>;
  /** per UTC day, model and engine, tasks created in [fromSec, toSec) */
  usage(keyId: string, fromSec: number, toSec: number): Promise<UsageDay[]>;
}

export interface IdempotencyRow {
  body_hash: string;
  task_id: string | null;
  created_ms: number;
}

export type ClaimOutcome =
  | { state: 'claimed' }
  | { state: 'replay'; taskId: string }
  | { state: 'mismatch' }
  | { state: 'processing' };

export interface ClaimRules {
  nowMs: number;
  /** a key is honoured this long after its first use */
  ttlMs: number;
  /** an unfinished claim older than this is taken as abandoned (a crash mid-create) */
  staleMs: number;
}

/** What an existing row means for a new request with `hash`; null: the row is dead and may be taken over. */
export function judgeClaim(row: IdempotencyRow | undefined, hash: string, rules: ClaimRules): ClaimOutcome | null {
  if (!row || row.created_ms < rules.nowMs - rules.ttlMs) return null;
  if (row.body_hash !== hash) return { state: 'mismatch' };
  if (row.task_id) return { state: 'replay', taskId: row.task_id };
  if (row.created_ms >= rules.nowMs - rules.staleMs) return { state: 'processing' };
  return null;
}

export interface IdempotencyRepository {
  /** claims the key for this body, or says why not (replay, in flight, another body); one transaction */
  claim(keyId: string, key: string, hash: string, rules: ClaimRules): Promise<ClaimOutcome>;
  /** gives an unfinished claim back (the request was refused) */
  release(keyId: string, key: string): Promise<void>;
  /** drops keys first used before `beforeMs` */
  purge(beforeMs: number): Promise<void>;
}

export interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  webhook_secret: string | null;
  budget_usd: number | null;
  source: 'db' | 'env';
  created: number;
  revoked: number | null;
}

export interface KeyRepository {
  byHash(hash: string): Promise<KeyRow | undefined>;
  byId(id: string): Promise<KeyRow | undefined>;
  /** inserts the key; with `ifAbsent`, a key with this hash already stored is left as it is */
  insert(row: KeyRow & { hash: string }, opts?: { ifAbsent?: boolean }): Promise<void>;
  list(): Promise<KeyRow[]>;
  /** false when there was no such unrevoked key */
  revoke(id: string, atSec: number): Promise<boolean>;
  /** stored (not env) keys that are not revoked */
  activeCount(): Promise<number>;
}

export interface CallbackAttempt {
  taskId: string;
  attempt: number;
  atMs: number;
  statusCode: number | null;
  error: string | null;
  ok: boolean;
}

export interface CallbackRepository {
  record(a: CallbackAttempt): Promise<void>;
  list(taskId: string): Promise<CallbackAttempt[]>;
}

export interface UploadRow {
  id: string;
  key_id: string;
  blob: string;
  mime: string;
  bytes: number;
  created: number;
}

export interface UploadRepository {
  insert(u: UploadRow): Promise<void>;
  remove(id: string): Promise<void>;
}

export interface SettingsRepository {
  /** the stored value, or `value` stored now when there was none (the first writer wins) */
  getOrInit(name: string, value: string): Promise<string>;
}

export interface ListedOutput {
  taskId: string;
  model: string;
  completed: number;
  index: number;
  output: StoredOutput;
}

export interface OutputRepository {
  /** outputs the key can still fetch: not deleted, and persistent or unexpired at `nowSec`; newest task first */
  list(keyId: string, nowSec: number, limit: number, offset: number): Promise<ListedOutput[]>;
  count(keyId: string, nowSec: number): Promise<number>;
  /** the outputs of the key's successful task, or null */
  owned(taskId: string, keyId: string): Promise<StoredOutput[] | null>;
  /** bytes the key keeps as persistent outputs */
  persistentBytes(keyId: string): Promise<number>;
  /**
   * Reads the outputs of the key's successful task, lets `edit` change them in place, and writes them
   * back (with the task's storage tier) in one transaction; false when `edit` returns false or there
   * is no such task.
   */
  edit(taskId: string, keyId: string, edit: (outputs: StoredOutput[]) => boolean): Promise<boolean>;
}

export interface SweepRepository {
  /** successful, unswept tasks completed before `cutoffSec` (at most 500) */
  expiredTasks(cutoffSec: number): Promise<Array<{ id: string; outputs: StoredOutput[] }>>;
  markTaskSwept(id: string): Promise<void>;
  /** unswept uploads created before `cutoffSec` (at most 500) */
  expiredUploads(cutoffSec: number): Promise<Array<{ id: string; blob: string }>>;
  markUploadSwept(id: string): Promise<void>;
  /**
   * Source keys a task may still build on: those of unswept, unfailed tasks, and their parents' while
   * a child is unfinished (a queued child has not recorded its own sources yet).
   */
  liveSources(): Promise<string[]>;
  uploadKnown(blob: string): Promise<boolean>;
}
