import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzCorpus, type FuzzCase } from '../fixtures/fuzz.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { runCli } from '../cli/run-cli.js';

/**
 * The fuzz corpus (test/fixtures/fuzz.ts, 1,000+ inputs) through every way an image gets in:
 * uploads (all of it), `input_urls` from a loopback server and the CLI (a sample of every kind, since
 * each one is a render). No case may crash the server, answer 5xx or hang; each is a result, a 4xx
 * with a reason, or a task that fails with a reason; the server's memory comes back afterwards.
 */
let server: TestServer;
let corpus: FuzzCase[];
let origin: http.Server;
let base: string;

beforeAll(async () => {
  corpus = await fuzzCorpus();
  origin = http.createServer((req, res) => {
    const i = Number(/^\/case\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    const c = corpus[i];
    if (!c) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(c.bytes);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.2', resolve));
  base = `http://127.0.0.2:${(origin.address() as AddressInfo).port}`;
  server = await startTestServer({ RESHOOT_FETCH_ALLOW_HOSTS: '127.0.0.2', RESHOOT_JOB_MAX_ATTEMPTS: '1', RESHOOT_UPLOAD_LIMIT_BYTES: String(20 * 1024 * 1024) });
});
afterAll(async () => {
  await server?.close();
  await new Promise((r) => origin?.close(r));
});

/** A few of every kind, and every case of the rare kinds: each of these is a full render. */
function sample(cases: readonly FuzzCase[], perKind: number): Array<{ c: FuzzCase; i: number }> {
  const picked: Array<{ c: FuzzCase; i: number }> = [];
  const seen = new Map<string, number>();
  const step = 7; // spread over each kind rather than its first entries
  for (let k = 0; k < cases.length; k++) {
    const i = (k * step) % cases.length;
    const c = cases[i]!;
    const n = seen.get(c.kind) ?? 0;
    const all = c.kind === 'bomb' || c.kind === 'markup' || c.kind === 'size';
    if (all || n < perKind) {
      picked.push({ c, i });
      seen.set(c.kind, n + 1);
    }
  }
  return picked;
}

describe('fuzzed images', () => {
  it('has at least 1,000 cases of every kind', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(1000);
    for (const kind of ['valid', 'truncated', 'bitflip', 'bomb', 'markup', 'size', 'garbage']) {
      expect(corpus.filter((c) => c.kind === kind).length, kind).toBeGreaterThan(0);
    }
  });

  it('every upload is accepted or refused with a reason: no 5xx, no hang, memory back', async () => {
    const gc = global.gc;
    expect(gc, 'vitest.config.ts starts test workers with --expose-gc').toBeTypeOf('function');
    const api = apiClient(server);
    // one render first, so the model's memory is in the baseline
    const warm = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on slate', input_urls: [`${base}/case/0`] } });
    expect((await api.wait(warm.body.data.taskId)).task.status).toBe('success');

    /** Every case once: the problems it found, and how many were accepted and refused. */
    async function uploadAll(): Promise<{ problems: string[]; accepted: number; refused: number }> {
      const problems: string[] = [];
      let accepted = 0;
      let refused = 0;
      for (const c of corpus) {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(c.bytes)]), `${c.name}.bin`);
        const res = await fetch(`${server.url}/v1/uploads`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.apiKey}` },
          body: form,
          signal: AbortSignal.timeout(30_000),
        }).catch((err: Error) => err);
        if (res instanceof Error) {
          problems.push(`${c.name}: ${res.message}`);
          continue;
        }
        const body = (await res.json()) as { code: number; message: string; error_code?: string; data?: { width: number; height: number } };
        if (res.status === 200) accepted++;
        else if (res.status >= 400 && res.status < 500 && body.error_code && body.message.startsWith('file: ')) refused++;
        else problems.push(`${c.name}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 160)}`);
        if (c.kind === 'valid' && res.status !== 200) problems.push(`${c.name}: a valid image was refused: ${body.message}`);
        if ((c.kind === 'markup' || c.kind === 'garbage') && res.status === 200) problems.push(`${c.name}: accepted`);
        // A bomb is refused for what it declares; one whose decoder ignores the claim (a GIF's logical
        // screen) may pass at the size it really decodes to, never over the limit.
        if (c.kind === 'bomb' && res.status === 200 && body.data!.width * body.data!.height > 50_000_000) problems.push(`${c.name}: accepted over the limit`);
      }
      return { problems, accepted, refused };
    }
    /** Once the last requests' sockets and writes have settled, after a full collection: the process's resident
     * set, and what JavaScript holds (heap and buffers). */
    async function memory(): Promise<{ rss: number; js: number }> {
      await new Promise((resolve) => setTimeout(resolve, 500));
      gc!();
      gc!();
      const m = process.memoryUsage();
      return { rss: m.rss / 2 ** 20, js: (m.heapUsed + m.arrayBuffers) / 2 ** 20 };
    }

    const first = await uploadAll();
    expect(first.problems).toEqual([]);
    expect(first.accepted + first.refused).toBe(corpus.length);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // Memory comes back: the first pass raised the allocators to their working size, so a second pass of the
    // same inputs must end where the first did. A server that kept each upload's bytes (15 MB for the corpus)
    // or its decoded pixels would end the second pass that much higher.
    const before = await memory();
    const second = await uploadAll();
    const after = await memory();
    expect(second).toEqual(first);
    const grew = { rss: after.rss - before.rss, js: after.js - before.js };
    console.info(
      `fuzz uploads: ${corpus.length} cases, ${first.accepted} accepted, ${first.refused} refused with a reason; ` +
        `second pass: RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MB, JS heap and buffers ${before.js.toFixed(1)} → ${after.js.toFixed(1)} MB`,
    );
    expect(grew.js).toBeLessThan(8);
    expect(grew.rss).toBeLessThan(40);
  });

  it('every sampled case through input_urls ends in a result or a task error with a reason', async () => {
    const api = apiClient(server);
    const picked = sample(corpus, 6);
    const problems: string[] = [];
    const outcomes = { success: 0, fail: 0 };
    for (const { c, i } of picked) {
      const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on slate', input_urls: [`${base}/case/${i}`] } });
      if (created.status !== 200) {
        problems.push(`${c.name}: create answered ${created.status}`);
        continue;
      }
      const { task } = await api.wait(created.body.data.taskId, 120_000);
      outcomes[task.status as 'success' | 'fail']++;
      if (task.status === 'fail') {
        if (!/^input_urls\[0\]: \S/.test(task.error.message)) problems.push(`${c.name}: fail without a reason naming the reference: ${task.error.message}`);
        if (c.kind === 'valid') problems.push(`${c.name}: a valid image failed: ${task.error.message}`);
      }
    }
    console.info(`fuzz input_urls: ${picked.length} sampled cases rendered, ${outcomes.success} succeeded, ${outcomes.fail} failed with a reason`);
    expect(problems).toEqual([]);
    expect(outcomes.success).toBeGreaterThanOrEqual(picked.filter(({ c }) => c.kind === 'valid').length);
    expect(outcomes.fail).toBeGreaterThan(10);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('the CLI renders a sampled folder item by item: failures are listed with reasons, nothing crashes', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-fuzz-cli-'));
    try {
      const picked = sample(corpus, 2);
      await fs.mkdir(path.join(dir, 'in'));
      for (const { c } of picked) await fs.writeFile(path.join(dir, 'in', `${c.name}.png`), c.bytes);
      const r = await runCli(['batch', path.join(dir, 'in'), '--out', path.join(dir, 'out'), '-p', 'on slate', '--json']);
      // 0: all rendered; 2: some items failed (listed). Anything else is a crash or a usage error.
      expect([0, 2], r.stderr).toContain(r.code);
      expect(r.signal).toBeNull();
      expect(r.stderr).not.toMatch(/\n\s+at \S+ \(/); // no stack trace
      const failures = (await fs.readFile(path.join(dir, 'out', 'failures.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const rendered = (await fs.readdir(path.join(dir, 'out'))).filter((f) => f.endsWith('.png'));
      expect(rendered.length + failures.length).toBe(picked.length);
      for (const f of failures) expect(JSON.stringify(f)).toMatch(/"(error|reason|message)":"[^"]{8,}/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
