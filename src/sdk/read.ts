import type { TaskList, TaskObject, TaskOutput } from '../contract/task.js';

/**
 * Lenient readers for what servers send (docs/contract.md §14): official clients accept `data.id` /
 * `task_id` / `id` for the task id, `succeeded` / `completed` / `failed` for statuses, and
 * `output[].data` data URIs next to `url`. Our server emits only the documented forms; reading the
 * others keeps the client working against older or third-party servers.
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const STATUS_ALIASES: Record<string, string> = { succeeded: 'success', completed: 'success', failed: 'fail' };

/** The task id from a create answer's `data`, or undefined. */
export function readTaskId(data: unknown): string | undefined {
  if (!isObject(data)) return undefined;
  for (const k of ['taskId', 'task_id', 'id']) {
    const v = data[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

function readOutput(raw: unknown): TaskOutput | undefined {
  if (!isObject(raw)) return undefined;
  const url = typeof raw.url === 'string' ? raw.url : typeof raw.data === 'string' ? raw.data : undefined;
  if (url === undefined) return undefined;
  const expireAt = typeof raw.expireAt === 'number' ? raw.expireAt : 0;
  return { ...raw, url, type: (typeof raw.type === 'string' ? raw.type : 'image') as 'image', expireAt };
}

/** A task object as the contract describes it; unknown statuses are kept as they are (non-terminal). */
export function readTask(raw: unknown): TaskObject {
  if (!isObject(raw)) throw new TypeError(`expected a task object but received ${raw === null ? 'null' : typeof raw}`);
  const taskId = readTaskId(raw);
  if (taskId === undefined) throw new TypeError('expected a task object with a taskId');
  const status = typeof raw.status === 'string' ? (STATUS_ALIASES[raw.status] ?? raw.status) : 'queued';
  const task = { ...raw, taskId, status } as unknown as TaskObject & Record<string, unknown>;
  if (typeof task.completed !== 'number') task.completed = 0;
  if (Array.isArray(raw.output)) {
    task.output = raw.output.map(readOutput).filter((o): o is TaskOutput => o !== undefined);
  }
  return task;
}

/** A `GET /v1/tasks` page. */
export function readTaskList(raw: unknown): TaskList {
  if (!isObject(raw)) throw new TypeError('expected a task list object');
  const tasks = Array.isArray(raw.tasks) ? raw.tasks.map(readTask) : [];
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  return { page: num(raw.page, 1), size: num(raw.size, 10), total: num(raw.total, tasks.length), tasks };
}
