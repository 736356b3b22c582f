import type { Envelope, TaskList, TaskObject } from '../../src/contract/task.js';
import type { AspectRatio, Background, LockModeName, OutputFormat, Resolution } from '../../src/contract/models.js';
import { servedRoutes, type ServedRoutes } from '../../src/contract/served-models.js';
import type { PriceRow } from '../../src/contract/pricing.js';
import type { LibrarySceneInfo } from '../../src/contract/scenes.js';
import { ApiError, codeForStatus } from '../../src/sdk/errors.js';

export type { TaskList, TaskObject };

export type ReferenceRole = 'product' | 'scene' | 'style';

/** The `input` object of a create request, as the studio sends it. */
export interface StudioTaskInput {
  prompt: string;
  input_urls: string[];
  aspect_ratio: AspectRatio;
  resolution: Resolution;
  seed?: number;
  scene?: Record<string, unknown>;
  roles?: ReferenceRole[];
  output_format?: OutputFormat;
  background?: Background;
  scene_from?: string;
  /** generative routes: what the product lock does with the model's frame */
  lock?: LockModeName;
}

/**
 * A failed call is the SDK's ApiError: `code` is the envelope's `error_code` (else the code the
 * contract gives the status), `NETWORK` when no answer came back, `ABORTED` when the studio stopped waiting.
 */
export { ApiError };

export interface ApiClient {
  upload(file: Blob, filename: string): Promise<string>;
  /** `route`: the top-level engine choice, left out for the server's default */
  createTask(model: string, input: StudioTaskInput, route?: string): Promise<string>;
  /** The routes the server accepts and what its default renders with, from `GET /v1/models` (contract D18). */
  routes(): Promise<ServedRoutes>;
  getTask(taskId: string): Promise<TaskObject>;
  listTasks(page: number, size: number): Promise<TaskList>;
  /** `GET /api/pricing`: the server's price rows, which `priceFor` (contract/pricing) evaluates. */
  pricing(): Promise<PriceRow[]>;
  /** `GET /v1/scenes`: the operator's scene library (an empty list when the server has none or no such endpoint). */
  scenes(): Promise<LibrarySceneInfo[]>;
  /** Checks a key without creating anything; resolves when the server accepts it. */
  checkKey(key: string): Promise<void>;
  /** An image the API serves to the key itself (`/v1/tasks/:id/matte`, `/source`), as a Blob. */
  image(path: string): Promise<Blob>;
}

/**
 * A client for the hiapi endpoints the studio uses. `getKey` is read on every call so a changed key
 * takes effect at once.
 */
export function createApiClient(deps: { baseUrl?: string; getKey: () => string | null; onUnauthorized?: () => void }): ApiClient {
  const base = deps.baseUrl ?? '';

  async function call<T>(path: string, init: RequestInit = {}, key = deps.getKey()): Promise<T> {
    const headers = new Headers(init.headers);
    if (key) headers.set('authorization', `Bearer ${key}`);
    let res: Response;
    try {
      res = await fetch(base + path, { ...init, headers });
    } catch (err) {
      throw new ApiError({ status: 0, code: 'NETWORK', message: `The server could not be reached (${(err as Error).message}).`, cause: err });
    }
    // A proxy or a crash may answer with something that is not the envelope.
    const body = (await res.json().catch(() => null)) as Partial<Envelope<T>> | null;
    if (!res.ok || !body || (typeof body.code === 'number' && body.code !== 200)) {
      const message = body?.message ?? `HTTP ${res.status} ${res.statusText}`;
      if (res.status === 401 && deps.onUnauthorized) deps.onUnauthorized();
      throw new ApiError({ status: res.status, code: codeForStatus(res.status, body?.error_code), message, body });
    }
    return body.data as T;
  }

  return {
    async upload(file, filename) {
      const form = new FormData();
      form.append('file', file, filename);
      const data = await call<{ url: string }>('/v1/uploads', { method: 'POST', body: form });
      return data.url;
    },
    async createTask(model, input, route) {
      const data = await call<{ taskId: string }>('/v1/tasks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(route ? { model, input, route } : { model, input }),
      });
      return data.taskId;
    },
    getTask: (taskId) => call<TaskObject>(`/v1/tasks/${encodeURIComponent(taskId)}`),
    listTasks: (page, size) => call<TaskList>(`/v1/tasks?page=${page}&size=${size}`),
    pricing: () => call<PriceRow[]>('/api/pricing'),
    scenes: () => call<LibrarySceneInfo[]>('/v1/scenes').then((s) => (Array.isArray(s) ? s : []), (err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return [];
      throw err;
    }),
    routes: async () => servedRoutes(await call<unknown[]>('/v1/models')),
    async image(path) {
      const key = deps.getKey();
      let res: Response;
      try {
        res = await fetch(base + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
      } catch (err) {
        throw new ApiError({ status: 0, code: 'NETWORK', message: `The server could not be reached (${(err as Error).message}).`, cause: err });
      }
      if (res.ok) return res.blob();
      // errors come in the envelope, like every other answer
      const body = (await res.json().catch(() => null)) as Partial<Envelope<unknown>> | null;
      if (res.status === 401 && deps.onUnauthorized) deps.onUnauthorized();
      throw new ApiError({ status: res.status, code: codeForStatus(res.status, body?.error_code), message: body?.message ?? `HTTP ${res.status}`, body });
    },
    async checkKey(key) {
      // Called with the candidate key and without the 401 hook: a wrong key here is an answer, not a logout.
      const res = await fetch(`${base}/v1/tasks?page=1&size=1`, { headers: { authorization: `Bearer ${key}` } }).catch(
        (err: Error) => {
          throw new ApiError({ status: 0, code: 'NETWORK', message: `The server could not be reached (${err.message}).`, cause: err });
        },
      );
      if (res.ok) return;
      const body = (await res.json().catch(() => null)) as Partial<Envelope<unknown>> | null;
      throw new ApiError({ status: res.status, code: codeForStatus(res.status, body?.error_code), message: body?.message ?? `HTTP ${res.status}`, body });
    },
  };
}

/** Polls a task until it reaches success or fail, reporting every status change. */
export async function waitForTask(
  api: ApiClient,
  taskId: string,
  onUpdate: (task: TaskObject) => void,
  signal?: AbortSignal,
): Promise<TaskObject> {
  let delay = 400;
  let misses = 0;
  for (;;) {
    if (signal?.aborted) throw new ApiError({ status: 0, code: 'ABORTED', message: 'Stopped waiting for the task.' });
    let task: TaskObject;
    try {
      task = await api.getTask(taskId);
      misses = 0;
    } catch (err) {
      // A dropped connection or a restarting server is not the task's fate: keep asking for a while.
      const e = err as ApiError;
      if ((e.status === 0 || e.status >= 500) && ++misses <= 8) {
        await new Promise((resolve) => setTimeout(resolve, 1000 * misses));
        continue;
      }
      throw err;
    }
    onUpdate(task);
    if (task.status === 'success' || task.status === 'fail') return task;
    await new Promise((resolve) => setTimeout(resolve, delay));
    // Studio renders take a second or two: poll briskly at first, then back off.
    delay = Math.min(2000, Math.round(delay * 1.25));
  }
}
