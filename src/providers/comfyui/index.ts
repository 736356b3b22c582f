import { createHash } from 'node:crypto';
import { PermanentTaskError } from '../../errors.js';
import { parseRetryAfter, retryDelay, sleep } from '../../sdk/retry.js';
import { KEEP_PRODUCT, type Painted, type PaintRequest, type Upstream } from '../hiapi/index.js';

/**
 * ComfyUI as an upstream (the self-hosted GPU path). The workflow is an API-format workflow JSON
 * (ComfyUI's "Save (API)") with placeholders in its string values:
 *
 *   "{{image}}"   the uploaded layout's name (for a LoadImage node)
 *   "{{mask}}"    the uploaded mask's name: opaque where the product is, so LoadImage's MASK output
 *                 is 1 where the scene is to be painted and 0 on the product
 *   "{{prompt}}"  the prompt with the keep-the-product line (also inside a longer string)
 *   "{{seed}}", "{{width}}", "{{height}}"   numbers (the whole value is replaced by the number)
 *
 * The layout and mask go up with `POST /upload/image`, the workflow is queued with `POST /prompt`
 * under a prompt_id derived from the job (so a retried job finds its earlier run in
 * `/history/{id}` and polls it instead of queueing again), `/history/{id}` is polled until the run
 * has outputs or an error, and the first output image comes from `/view`.
 */

export interface ComfyUiUpstreamOptions {
  url: string;
  /** the API-format workflow, parsed */
  workflow: Record<string, unknown>;
  pollMs?: number;
  /** the whole run; default 600000 ms */
  timeoutMs?: number;
  /** per HTTP attempt; default 60000 ms */
  requestTimeoutMs?: number;
  /** attempts per request on 429/5xx/network failure; default 3 */
  attempts?: number;
  retryBaseMs?: number;
  seed?: number;
}

/** The prompt_id for a job: a UUID-shaped digest, stable across retries. */
export function comfyPromptId(jobKey: string): string {
  const h = createHash('sha256').update(`reshoot-comfyui:${jobKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The workflow with its placeholders filled (see the module comment). */
export function fillWorkflow(workflow: unknown, values: { image: string; mask: string; prompt: string; seed: number; width: number; height: number }): unknown {
  const numbers: Record<string, number> = { '{{seed}}': values.seed, '{{width}}': values.width, '{{height}}': values.height };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (v in numbers) return numbers[v];
      return v.replaceAll('{{image}}', values.image).replaceAll('{{mask}}', values.mask).replaceAll('{{prompt}}', values.prompt);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(workflow);
}

interface HistoryEntry {
  outputs?: Record<string, { images?: Array<{ filename: string; subfolder?: string; type?: string }> }>;
  status?: { status_str?: string; completed?: boolean; messages?: unknown[] };
}

export function comfyUiUpstream(opts: ComfyUiUpstreamOptions): Upstream {
  const base = opts.url.replace(/\/+$/, '');
  const attempts = Math.max(1, opts.attempts ?? 3);
  const baseMs = opts.retryBaseMs ?? 500;

  /** One request with retries on 429/5xx/network failure; other statuses come back to the caller. */
  async function send(path: string, init: { method: 'GET' | 'POST'; body?: FormData | string; json?: boolean }, signal: AbortSignal): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(opts.requestTimeoutMs ?? 60_000);
      let res: Response | undefined;
      let why: string;
      try {
        res = await fetch(`${base}${path}`, {
          method: init.method,
          body: init.body,
          headers: init.json ? { 'content-type': 'application/json' } : undefined,
          signal: AbortSignal.any([signal, timeout]),
        });
        if (res.status !== 429 && res.status < 500) return res;
        why = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        why = timeout.aborted ? 'no answer in time' : `network error: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (attempt >= attempts) throw new PermanentTaskError(`upstream comfyui: ${init.method} ${path.split('?')[0]}: ${attempts} attempts, last ${why}`, 'TASK_FAILED');
      await sleep(retryDelay(attempt - 1, parseRetryAfter(res?.headers.get('retry-after')), baseMs), signal);
    }
  }

  async function upload(png: Buffer, name: string, signal: AbortSignal): Promise<string> {
    const form = new FormData();
    form.set('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), name);
    form.set('type', 'input');
    form.set('overwrite', 'true');
    const res = await send('/upload/image', { method: 'POST', body: form }, signal);
    if (!res.ok) throw new PermanentTaskError(`upstream comfyui refused the upload (HTTP ${res.status}): ${(await res.text()).slice(0, 200)}`, 'TASK_FAILED');
    const body = (await res.json()) as { name?: string; subfolder?: string };
    if (!body.name) throw new PermanentTaskError('upstream comfyui answered the upload without a name', 'TASK_FAILED');
    return body.subfolder ? `${body.subfolder}/${body.name}` : body.name;
  }

  async function history(id: string, signal: AbortSignal): Promise<HistoryEntry | undefined> {
    const res = await send(`/history/${encodeURIComponent(id)}`, { method: 'GET' }, signal);
    if (!res.ok) throw new PermanentTaskError(`upstream comfyui: GET /history answered HTTP ${res.status}`, 'TASK_FAILED');
    const body = (await res.json()) as Record<string, HistoryEntry>;
    return body[id];
  }

  return {
    name: 'comfyui',
    async paint(req: PaintRequest): Promise<Painted> {
      const deadline = AbortSignal.timeout(opts.timeoutMs ?? 600_000);
      const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
      const promptId = req.upstreamTaskId ?? comfyPromptId(req.jobKey);
      try {
        let created = 0;
        if (!(await history(promptId, signal))) {
          const tag = promptId.slice(0, 8);
          const image = await upload(req.layout, `reshoot-${tag}-layout.png`, signal);
          const mask = req.mask ? await upload(req.mask, `reshoot-${tag}-mask.png`, signal) : image;
          const size = pngSize(req.layout);
          const prompt = fillWorkflow(opts.workflow, {
            image, mask, prompt: `${req.prompt.trim()}\n\n${KEEP_PRODUCT}`, seed: opts.seed ?? seedOf(req.jobKey), width: size.width, height: size.height,
          });
          const res = await send('/prompt', { method: 'POST', json: true, body: JSON.stringify({ prompt, prompt_id: promptId, client_id: 'reshoot' }) }, signal);
          created = 1;
          if (!res.ok) {
            const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; type?: string }; node_errors?: Record<string, unknown> };
            const nodes = body.node_errors ? Object.keys(body.node_errors) : [];
            throw new PermanentTaskError(`upstream comfyui refused the workflow (HTTP ${res.status}${body.error?.type ? ` ${body.error.type}` : ''}): ${body.error?.message ?? 'no message'}${nodes.length ? ` (nodes ${nodes.join(', ')})` : ''}`, 'TASK_FAILED');
          }
          await req.onCreated?.(promptId);
        }
        for (;;) {
          const h = await history(promptId, signal);
          if (h?.status?.status_str === 'error') {
            throw new PermanentTaskError(`upstream comfyui failed the run: ${JSON.stringify(h.status.messages ?? []).slice(0, 300)}`, 'TASK_FAILED');
          }
          const images = h ? Object.values(h.outputs ?? {}).flatMap((o) => o.images ?? []).filter((i) => (i.type ?? 'output') === 'output') : [];
          const first = images[0];
          if (first && h?.status?.completed !== false) {
            const q = new URLSearchParams({ filename: first.filename, subfolder: first.subfolder ?? '', type: first.type ?? 'output' });
            const res = await send(`/view?${q}`, { method: 'GET' }, signal);
            if (!res.ok) throw new PermanentTaskError(`upstream comfyui: GET /view answered HTTP ${res.status}`, 'TASK_FAILED');
            return { image: Buffer.from(await res.arrayBuffer()), upstreamTaskId: promptId, createAttempts: created, replayed: created === 0 };
          }
          await sleep(opts.pollMs ?? 1000, signal);
        }
      } catch (err) {
        if (deadline.aborted && !req.signal?.aborted) {
          throw new PermanentTaskError(`upstream comfyui did not finish within ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`, 'TASK_TIMEOUT', { cause: err });
        }
        throw err;
      }
    },
  };
}

/** A seed from the job key, so a retried job paints the same picture. */
function seedOf(jobKey: string): number {
  return createHash('sha256').update(jobKey).digest().readUInt32BE(0);
}

/** Width and height from a PNG's IHDR. */
function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
