import { createEngine, type Engine, type EngineOptions, type TransformRequest, type TransformResult } from '../engine/index.js';
import { ImageDecodeError } from '../engine/sharp.js';

/**
 * Runs inside a piscina worker thread: one engine per thread, built on first use and kept (model
 * sessions and caches live for the thread's life). Errors cross the thread boundary as plain data.
 */
let engine: Engine | null = null;
let builtWith = '';

export interface ThreadTask {
  options: EngineOptions;
  request: TransformRequest;
}

export type ThreadResult =
  | { ok: true; result: TransformResult }
  | { ok: false; permanent: boolean; message: string; source?: string };

export default async function run(task: ThreadTask): Promise<ThreadResult> {
  const key = JSON.stringify(task.options);
  if (!engine || builtWith !== key) {
    await engine?.close();
    engine = createEngine(task.options);
    builtWith = key;
  }
  try {
    const result = await engine.transform(task.request);
    return { ok: true, result };
  } catch (err) {
    // Bad input is not retried; anything else (a bug, a resource problem) may succeed on another try.
    const permanent = err instanceof ImageDecodeError || (err instanceof Error && err.name === 'PermanentTaskError');
    const source = err instanceof ImageDecodeError ? err.source : undefined;
    return { ok: false, permanent, message: err instanceof Error ? err.message : String(err), source };
  }
}
