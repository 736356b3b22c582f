import { renderPackshot } from '../fixtures/index.js';
import type { TestServer } from './server.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Small fetch wrapper for contract tests: JSON in, envelope out, headers kept. */
export function apiClient(server: Pick<TestServer, 'url' | 'apiKey'>, key = server.apiKey) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${key}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${server.url}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON (metrics, files) */
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return {
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body, headers),
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    /** polls until the task is terminal; returns every status seen, in order, and the last task */
    async wait(taskId: string, timeoutMs = 150_000): Promise<{ task: any; seen: string[] }> {
      const seen: string[] = [];
      const until = Date.now() + timeoutMs;
      for (;;) {
        const r = await call('GET', `/v1/tasks/${taskId}`);
        if (r.status !== 200) throw new Error(`GET task: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        const task = r.body.data;
        if (seen.at(-1) !== task.status) seen.push(task.status);
        if (task.status === 'success' || task.status === 'fail') return { task, seen };
        if (Date.now() > until) throw new Error(`task ${taskId} still ${task.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The packshot productDataUri() holds; renderPackshot(PRODUCT) gives its true alpha too. */
export const PRODUCT = { product: 'mug', background: 'white', width: 320, height: 320 } as const;

let productUri: Promise<string> | null = null;
/** A small packshot as a data: URI (rendered once per test file). */
export function productDataUri(): Promise<string> {
  productUri ??= renderPackshot(PRODUCT).then(
    (p) => `data:image/png;base64,${p.png.toString('base64')}`,
  );
  return productUri;
}

export const MODEL = 'gpt-image-2-image-to-image';
export const PRO = 'gpt-image-2-image-to-image-pro';
