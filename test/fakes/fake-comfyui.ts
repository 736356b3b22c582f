import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A ComfyUI server on loopback speaking its HTTP API: `POST /upload/image` (multipart `image`,
 * answers `{name, subfolder, type}`), `POST /prompt` (`{prompt, prompt_id?, client_id}` → `{prompt_id,
 * number, node_errors}`, or 400 `{error, node_errors}` for a workflow whose LoadImage names an image
 * never uploaded), `GET /history/{id}` (`{}` while queued and running, then the entry with
 * `outputs` and `status`), `GET /view?filename&subfolder&type`. A run takes `steps` history polls.
 * What it paints is up to the test, from the workflow it ran and the images it was given.
 */

export interface FakeComfyUi {
  url: string;
  uploads: Map<string, Buffer>;
  prompts: Array<{ id: string; prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }>;
  /** the next `times` requests to `route` ("POST /prompt", "GET /history") answer `status` */
  fault(route: string, status: number, times?: number): void;
  /** the next run ends in an execution error */
  failNext(): void;
  close(): Promise<void>;
}

type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

export async function startFakeComfyUi(paint: (workflow: Workflow, uploads: Map<string, Buffer>) => Promise<Buffer>, steps = 2): Promise<FakeComfyUi> {
  const uploads = new Map<string, Buffer>();
  const outputs = new Map<string, Buffer>();
  const runs = new Map<string, { polls: number; fail: boolean; workflow: Workflow; image?: Promise<Buffer> }>();
  const prompts: FakeComfyUi['prompts'] = [];
  const faults: Array<{ route: string; status: number }> = [];
  let failNext = false;
  let number = 0;
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${url.pathname.startsWith('/history/') ? '/history' : url.pathname}`;
    const fi = faults.findIndex((f) => f.route === route);
    if (fi >= 0) return json(res, faults.splice(fi, 1)[0]!.status, { error: 'fault' });

    if (route === 'POST /upload/image') {
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) }).formData();
      const file = form.get('image');
      if (!(file instanceof File)) return json(res, 400, { error: 'no image' });
      uploads.set(file.name, Buffer.from(await file.arrayBuffer()));
      return json(res, 200, { name: file.name, subfolder: '', type: 'input' });
    }
    if (route === 'POST /prompt') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { prompt: Workflow; prompt_id?: string };
      const nodeErrors: Record<string, unknown> = {};
      for (const [id, node] of Object.entries(body.prompt)) {
        if (node.class_type === 'LoadImage' && !uploads.has(String(node.inputs.image))) {
          nodeErrors[id] = { errors: [{ type: 'value_not_in_list', message: 'Value not in list', details: `image: '${String(node.inputs.image)}' not in list` }], class_type: 'LoadImage' };
        }
      }
      if (Object.keys(nodeErrors).length > 0) {
        return json(res, 400, { error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} }, node_errors: nodeErrors });
      }
      const id = body.prompt_id ?? `p-${number + 1}`;
      prompts.push({ id, prompt: body.prompt });
      runs.set(id, { polls: 0, fail: failNext, workflow: body.prompt });
      failNext = false;
      return json(res, 200, { prompt_id: id, number: number++, node_errors: {} });
    }
    if (route === 'GET /history') {
      const id = decodeURIComponent(url.pathname.slice('/history/'.length));
      const run = runs.get(id);
      if (!run || run.polls++ < steps) return json(res, 200, {});
      if (run.fail) {
        return json(res, 200, { [id]: { prompt: [], outputs: {}, status: { status_str: 'error', completed: false, messages: [['execution_error', { node_id: '3', exception_message: 'CUDA out of memory' }]] } } });
      }
      run.image ??= paint(run.workflow, uploads);
      outputs.set(`reshoot_${id}.png`, await run.image);
      return json(res, 200, { [id]: { prompt: [], outputs: { 9: { images: [{ filename: `reshoot_${id}.png`, subfolder: '', type: 'output' }] } }, status: { status_str: 'success', completed: true, messages: [] } } });
    }
    if (route === 'GET /view') {
      const png = outputs.get(url.searchParams.get('filename') ?? '');
      if (!png || url.searchParams.get('type') !== 'output') return json(res, 404, { error: 'not found' });
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
      return;
    }
    return json(res, 404, { error: 'not found' });
  });
  server.keepAliveTimeout = 50;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    uploads,
    prompts,
    fault: (route, status, times = 1) => { for (let i = 0; i < times; i++) faults.push({ route, status }); },
    failNext: () => { failNext = true; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
