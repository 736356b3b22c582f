/** The task object on the wire (docs/contract.md §4-6). Field names are the contract's, not ours. */

export const TASK_STATUSES = ['queued', 'handling', 'archiving', 'success', 'fail'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL: ReadonlySet<string> = new Set(['success', 'fail']);

export interface TaskOutput {
  url: string;
  type: 'image';
  expireAt: number;
}

export interface TaskError {
  code: string;
  message: string;
}

/** Our extension, under the single top-level key `reshoot` (§16). */
export interface ReshootExtension {
  engine?: string;
  plan?: unknown;
  placement?: unknown;
  fidelity?: unknown;
  timings?: Record<string, number>;
  cost?: { usd: number; model: string };
  /** multi-turn edits: the parent task, this task's turn (the first task is turn 1) and the chain's first task */
  lineage?: { parent: string; turn: number; root: string };
  [key: string]: unknown;
}

export interface TaskObject {
  taskId: string;
  model: string;
  status: TaskStatus;
  created: number;
  completed: number;
  storage: 'temp' | 'persistent';
  route?: string;
  output?: TaskOutput[];
  error?: TaskError;
  reshoot?: ReshootExtension;
}

export interface TaskList {
  page: number;
  size: number;
  total: number;
  tasks: TaskObject[];
}

export interface Envelope<T> {
  code: number;
  message: string;
  data: T;
  error_code?: string;
}
