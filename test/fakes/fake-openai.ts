import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible images API on loopback: `POST /v1/images/edits` (multipart: model, image,
 * mask, prompt, size, n) answering `{created, data: [{b64_json}], usage}` the way gpt-image-1 does,
 * its error shape `{error: {message, type, param, code}}` for a bad size, a missing image, a mask
 * that does not match the image and a wrong key, and scripted faults (429 with Retry-After, 500).
 * What it paints is up to the test (`paint`), from the image and mask it was sent.
 */

export interface EditRequest {
  model: string;
  prompt: string;
  size: string;
  image: Buffer;
  mask?: Buffer;
  headers: IncomingMessage['headers'];
}

export interface FakeOpenAi {
  url: string;
  apiKey: string;
  requests: EditRequest[];
  /** the next `times` edits answer this status (429 with `retryAfter` seconds) */
  fault(status: number, times?: number, retryAfter?: string): void;
  close(): Promise<void>;
}

const SIZES = new Set(['1024x1024', '1536x1024', '1024x1536', 'auto']);

export async function startFakeOpenAi(paint: (req: EditRequest) => Promise<Buffer>, probe: (png: Buffer) => Promise<{ width: number; height: number }>): Promise<FakeOpenAi> {
  const apiKey = 'sk-openai-fake';
  const requests: EditRequest[] = [];
  const faults: Array<{ status: number; retryAfter?: string }> = [];
  const error = (res: import('node:http').ServerResponse, status: number, message: string, type: string, param: string | null, code: string | null, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { message, type, param, code } }));
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/images/edits') return error(res, 404, 'Unknown request URL', 'invalid_request_error', null, 'unknown_url');
    if (req.headers.authorization !== `Bearer ${apiKey}`) return error(res, 401, 'Incorrect API key provided', 'invalid_request_error', null, 'invalid_api_key');
    const fault = faults.shift();
    if (fault) {
      if (fault.status === 429) return error(res, 429, 'Rate limit reached for images', 'requests', null, 'rate_limit_exceeded', fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
      return error(res, fault.status, 'The server had an error while processing your request.', 'server_error', null, null);
    }
    const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) }).formData();
    const image = form.get('image');
    const mask = form.get('mask');
    if (!(image instanceof Blob)) return error(res, 400, "Missing required parameter: 'image'.", 'invalid_request_error', 'image', 'missing_required_parameter');
    const size = String(form.get('size') ?? 'auto');
    if (!SIZES.has(size)) return error(res, 400, `Invalid value: '${size}'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.`, 'invalid_request_error', 'size', 'invalid_value');
    const edit: EditRequest = {
      model: String(form.get('model') ?? ''),
      prompt: String(form.get('prompt') ?? ''),
      size,
      image: Buffer.from(await image.arrayBuffer()),
      mask: mask instanceof Blob ? Buffer.from(await mask.arrayBuffer()) : undefined,
      headers: req.headers,
    };
    requests.push(edit);
    if (edit.mask) {
      const [a, b] = await Promise.all([probe(edit.image), probe(edit.mask)]);
      if (a.width !== b.width || a.height !== b.height) return error(res, 400, 'Invalid mask image: the mask and image must have the same dimensions.', 'invalid_request_error', 'mask', 'invalid_mask');
    }
    const png = await paint(edit);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ created: Math.floor(Date.now() / 1000), data: [{ b64_json: png.toString('base64') }], usage: { total_tokens: 100, input_tokens: 50, output_tokens: 50 } }));
  });
  server.keepAliveTimeout = 50;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    fault: (status, times = 1, retryAfter) => { for (let i = 0; i < times; i++) faults.push({ status, retryAfter }); },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
