import { composite, decodeImage, encodeImage, resize } from '../../engine/codec.js';
import { crop } from '../../engine/raster/crop.js';
import { rgb8, type Raster8 } from '../../engine/raster/types.js';
import { PermanentTaskError } from '../../errors.js';
import { parseRetryAfter, retryDelay, sleep } from '../../sdk/retry.js';
import { KEEP_PRODUCT, upstreamKey, type Painted, type PaintRequest, type Upstream } from '../hiapi/index.js';

/**
 * An OpenAI-compatible images API as an upstream: `POST {base}/v1/images/edits`, multipart with
 * the layout (`image`), a `mask` whose opaque part is the product (the API paints only where the
 * mask is transparent), the prompt and a `size`. gpt-image-1 takes 1024x1024, 1536x1024,
 * 1024x1536 or auto and answers `data[0].b64_json`; the layout is letterboxed into the size
 * nearest its ratio and the answer cropped back and resized to the layout, so the product keeps
 * its shape and place for the lock.
 *
 * 429 and 5xx answers are retried with backoff, honouring Retry-After; every attempt carries the
 * same Idempotency-Key (derived from the job) for servers that honour one. Errors come back as
 * `{error: {message, type, code}}` and become task errors naming the upstream's message.
 */

export interface OpenAiUpstreamOptions {
  /** the API's base URL, with or without the trailing /v1 */
  baseUrl: string;
  apiKey: string;
  /** default gpt-image-1 */
  model?: string;
  /** per HTTP attempt; default 180000 ms (an image takes a while) */
  requestTimeoutMs?: number;
  /** attempts on 429/5xx/network failure; default 3 */
  attempts?: number;
  retryBaseMs?: number;
}

/** gpt-image-1's documented edit sizes (besides `auto`). */
export const OPENAI_SIZES = [
  { size: '1024x1024', width: 1024, height: 1024 },
  { size: '1536x1024', width: 1536, height: 1024 },
  { size: '1024x1536', width: 1024, height: 1536 },
] as const;

/** The documented size whose ratio is nearest the layout's (in log ratio). */
export function sizeFor(width: number, height: number): (typeof OPENAI_SIZES)[number] {
  const r = Math.log(width / height);
  return [...OPENAI_SIZES].sort((a, b) => Math.abs(Math.log(a.width / a.height) - r) - Math.abs(Math.log(b.width / b.height) - r))[0]!;
}

/** Where the layout sits inside the upstream's frame when letterboxed into it. */
function fitInside(w: number, h: number, W: number, H: number): { x: number; y: number; width: number; height: number } {
  const s = Math.min(W / w, H / h);
  const width = Math.max(1, Math.round(w * s)), height = Math.max(1, Math.round(h * s));
  return { x: Math.floor((W - width) / 2), y: Math.floor((H - height) / 2), width, height };
}

async function letterbox(png: Buffer, W: number, H: number, place: { x: number; y: number; width: number; height: number }, fill: number[]): Promise<Buffer> {
  const { image } = await decodeImage(png, { maxPixels: 100e6 });
  const scaled = await resize(image, place.width, place.height);
  const base = fill.length === 4
    ? { data: Buffer.alloc(W * H * 4), width: W, height: H, channels: 4 as const }
    : rgb8(Buffer.alloc(W * H * 3, fill[0]), W, H);
  const out = await composite(base, [{ image: scaled as Raster8, left: place.x, top: place.y }]);
  return encodeImage(out, 'png');
}

export function openAiUpstream(opts: OpenAiUpstreamOptions): Upstream {
  const base = opts.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const model = opts.model ?? 'gpt-image-1';
  const attempts = Math.max(1, opts.attempts ?? 3);
  const baseMs = opts.retryBaseMs ?? 1000;

  return {
    name: 'openai',
    async paint(req: PaintRequest): Promise<Painted> {
      const { image: layout } = await decodeImage(req.layout, { maxPixels: 100e6 });
      const { size, width: W, height: H } = sizeFor(layout.width, layout.height);
      const place = fitInside(layout.width, layout.height, W, H);
      const image = await letterbox(req.layout, W, H, place, [200]);
      const mask = req.mask ? await letterbox(req.mask, W, H, place, [0, 0, 0, 0]) : undefined;
      const key = upstreamKey(req.jobKey);
      for (let attempt = 1; ; attempt++) {
        const form = new FormData();
        form.set('model', model);
        form.set('prompt', `${req.prompt.trim()}\n\n${KEEP_PRODUCT}`);
        form.set('size', size);
        form.set('n', '1');
        form.set('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'layout.png');
        if (mask) form.set('mask', new Blob([new Uint8Array(mask)], { type: 'image/png' }), 'mask.png');
        const timeout = AbortSignal.timeout(opts.requestTimeoutMs ?? 180_000);
        const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
        let res: Response | undefined;
        let retryAfter: number | undefined;
        try {
          res = await fetch(`${base}/v1/images/edits`, { method: 'POST', headers: { authorization: `Bearer ${opts.apiKey}`, 'idempotency-key': key }, body: form, signal });
        } catch (err) {
          if (req.signal?.aborted) throw req.signal.reason;
          const last = timeout.aborted ? `no answer within ${Math.round((opts.requestTimeoutMs ?? 180_000) / 1000)} s` : `network error: ${err instanceof Error ? err.message : String(err)}`;
          if (attempt >= attempts) throw new PermanentTaskError(`upstream openai: ${last} (${attempt} attempts)`, timeout.aborted ? 'TASK_TIMEOUT' : 'TASK_FAILED', { cause: err });
        }
        if (res) {
          const text = await res.text();
          let body: { data?: Array<{ b64_json?: string }>; error?: { message?: string; code?: string | null; type?: string } } = {};
          try { body = JSON.parse(text) as typeof body; } catch { /* not JSON: reported by status below */ }
          if (res.ok) {
            const b64 = body.data?.[0]?.b64_json;
            if (!b64) throw new PermanentTaskError('upstream openai answered without data[0].b64_json', 'TASK_FAILED');
            const { image: painted } = await decodeImage(Buffer.from(b64, 'base64'), { maxPixels: 100e6 });
            // undo the letterbox: the layout's part of the answer, back at the layout's size
            const sx = painted.width / W, sy = painted.height / H;
            const part = crop(painted, { x: Math.round(place.x * sx), y: Math.round(place.y * sy), width: Math.round(place.width * sx), height: Math.round(place.height * sy) });
            const back = await resize(part, layout.width, layout.height);
            return { image: await encodeImage(back, 'png'), upstreamTaskId: '', createAttempts: attempt, replayed: false };
          }
          const detail = body.error?.message ?? (text.slice(0, 200) || res.statusText);
          const last = `HTTP ${res.status}${body.error?.code ? ` ${body.error.code}` : ''}: ${detail}`;
          const retryable = res.status === 429 || res.status >= 500;
          if (!retryable) {
            const why = res.status === 401 || res.status === 403 ? 'refused reshoot\'s key' : 'refused the request';
            throw new PermanentTaskError(`upstream openai ${why} (${last})`, 'TASK_FAILED');
          }
          if (attempt >= attempts) throw new PermanentTaskError(`upstream openai: ${attempts} attempts, last ${last}`, 'TASK_FAILED');
          retryAfter = parseRetryAfter(res.headers.get('retry-after'));
        }
        await sleep(retryDelay(attempt - 1, retryAfter, baseMs), req.signal);
      }
    },
  };
}
