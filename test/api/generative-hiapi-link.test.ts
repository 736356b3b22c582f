import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_HIAPI_UPSTREAM_MODELS, loadConfig } from '../../src/config.js';
import { startReshoot } from '../../src/main.js';
import { upstreamLayoutKey } from '../../src/worker/worker.js';
import { driftFor, repaintLayout } from '../fakes/layout-painter.js';
import { apiClient, MODEL, productDataUri } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startFakeHiapi, type FakeHiapi } from '../sdk/fake-hiapi.js';

/**
 * The hiapi upstream speaks what the real hiapi accepts (contract §14), through the real server and a
 * fake hiapi on loopback that downloads http(s) input_urls at create, as the real one does:
 * - with RESHOOT_PUBLIC_URL set, the layout goes as a signed `/files/tasks/<id>/upstream-layout.png`
 *   link of ours (the real hiapi takes public URLs only), the same bytes a data: URI would carry, and
 *   the link is gone once the task is over; without it, the data: URI as before and a warning at start;
 * - the model the upstream is asked for follows RESHOOT_HIAPI_UPSTREAM_MODELS (Pro, retired upstream,
 *   goes to its image-to-image model by default) and shows in `reshoot.upstream.model`.
 */

const PRO = 'gpt-image-2-image-to-image-pro';
const SLASHED = 'gpt-image-2/image-to-image';

let hiapi: FakeHiapi;
/** reachable: RESHOOT_PUBLIC_URL is its own address; the standard model mapped to the slashed name */
let linked: TestServer;
/** not reachable from outside: data: URIs, the default model mapping */
let plain: TestServer;
let product: string;

/** A free loopback port, so RESHOOT_PUBLIC_URL can name the server before it listens. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const upstreamEnv = () => ({
  RESHOOT_HIAPI_UPSTREAM_URL: hiapi.url,
  RESHOOT_HIAPI_UPSTREAM_KEY: hiapi.apiKey,
  RESHOOT_UPSTREAM_POLL_MS: '50',
  RESHOOT_UPSTREAM_RETRY_BASE_MS: '20',
});

beforeAll(async () => {
  // paints around the layout it was sent, whichever way it came (data: URI or downloaded link)
  hiapi = await startFakeHiapi({ fetchInputs: true, paint: async ({ input, refs }) => repaintLayout(refs[0]!, driftFor(String(input.prompt))) });
  const port = await freePort();
  linked = await startTestServer({
    ...upstreamEnv(),
    RESHOOT_PORT: String(port),
    RESHOOT_PUBLIC_URL: `http://127.0.0.1:${port}`,
    RESHOOT_HIAPI_UPSTREAM_MODELS: `${MODEL}=${SLASHED}`,
  });
  plain = await startTestServer(upstreamEnv());
  product = await productDataUri();
}, 60_000);
afterAll(async () => {
  await linked?.close();
  await plain?.close();
  await hiapi?.close();
});

const input = (prompt: string) => ({ prompt, input_urls: [product], aspect_ratio: '1:1', resolution: '1K', seed: 7 });

/** Creates a task on the hiapi route and waits for it; the create body the upstream got with it. */
async function run(server: TestServer, model: string, prompt: string) {
  const api = apiClient(server);
  const created = await api.post('/v1/tasks', { model, route: 'hiapi', input: input(prompt) });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const { task } = await api.wait(created.body.data.taskId);
  const post = hiapi.requests.filter((r) => r.method === 'POST' && r.path === '/v1/tasks' && r.body.includes(prompt)).at(-1);
  expect(post, 'the upstream was asked').toBeDefined();
  const sent = JSON.parse(post!.body) as { model: string; input: { input_urls: string[] } };
  return { task, sent, url: sent.input.input_urls[0]! };
}

describe('hiapi upstream: the layout as a link the real hiapi can fetch', () => {
  it('with RESHOOT_PUBLIC_URL: a signed link of ours, downloaded by the upstream, the same bytes as the data: URI; gone once the task is over', async () => {
    const prompt = 'on an oak table by a sage wall';
    const viaLink = await run(linked, MODEL, prompt);
    expect(viaLink.task.status, JSON.stringify(viaLink.task.error)).toBe('success');
    const taskId = viaLink.task.taskId as string;
    expect(viaLink.url).toMatch(new RegExp(`^${linked.url}/files/${upstreamLayoutKey(taskId)}\\?expires=\\d+&sig=[\\w-]+$`));
    // valid past the task's deadline (created + RESHOOT_TASK_TIMEOUT_SECONDS), so the upstream can fetch it late
    const expires = Number(new URL(viaLink.url).searchParams.get('expires'));
    expect(expires).toBeGreaterThanOrEqual(viaLink.task.created + linked.reshoot.config.tasks.timeoutSeconds);
    const got = hiapi.fetched.find((f) => f.url === viaLink.url);
    expect(got, 'the upstream downloaded the link').toMatchObject({ status: 200, contentType: 'image/png' });
    // the product lock found the product the upstream painted around the downloaded layout
    expect(viaLink.task.reshoot.lock).toMatchObject({ mode: 'strict', found: true });
    expect(viaLink.task.reshoot.lock.silhouetteIoU).toBeGreaterThanOrEqual(0.85);

    // the same task where reshoot is not reachable: the data: URI carries exactly the bytes the link served
    const viaData = await run(plain, MODEL, prompt);
    expect(viaData.task.status, JSON.stringify(viaData.task.error)).toBe('success');
    const m = /^data:image\/png;base64,(.+)$/s.exec(viaData.url);
    expect(m, 'a data: URI without RESHOOT_PUBLIC_URL').not.toBeNull();
    const dataBytes = Buffer.from(m![1]!, 'base64');
    expect(got!.bytes.equals(dataBytes)).toBe(true);
    const meta = await sharp(got!.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1024, 1024]);

    // the upstream has its frame: the layout is no longer stored or served
    expect(existsSync(path.join(linked.dataDir, 'blobs', upstreamLayoutKey(taskId)))).toBe(false);
    expect((await fetch(viaLink.url)).status).toBe(404);
  }, 120_000);
});

describe('hiapi upstream: the start warning', () => {
  it('a worker with the hiapi engine and no RESHOOT_PUBLIC_URL warns that the real hiapi cannot fetch a data: URI; with it, none', async () => {
    const warnings = async (env: Record<string, string>) => {
      const lines: Array<{ level: number; msg: string }> = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-h8-'));
      const config = loadConfig({ ...upstreamEnv(), RESHOOT_ROLE: 'worker', RESHOOT_DATA_DIR: dataDir, RESHOOT_API_KEYS: 'sk-test-warn', RESHOOT_FIRST_KEY: 'false', RESHOOT_ENGINE_THREADS: '1', ...env });
      const reshoot = await startReshoot(config, { logger });
      await reshoot.close();
      await fs.rm(dataDir, { recursive: true, force: true });
      return lines.filter((l) => l.level === 40).map((l) => l.msg);
    };
    const warned = await warnings({});
    expect(warned.some((m) => m.startsWith('the real hiapi fetches input_urls over the internet; set RESHOOT_PUBLIC_URL'))).toBe(true);
    expect((await warnings({ RESHOOT_PUBLIC_URL: 'https://img.example.com' })).some((m) => m.includes('RESHOOT_PUBLIC_URL'))).toBe(false);
  }, 60_000);
});

describe('hiapi upstream: model names the real hiapi accepts', () => {
  it('a Pro task reaches the upstream as its image-to-image model by default; reshoot.upstream.model says so', async () => {
    const { task, sent } = await run(plain, PRO, 'on white marble, Pro');
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(sent.model).toBe(DEFAULT_HIAPI_UPSTREAM_MODELS[PRO]);
    expect(sent.model).toBe(MODEL);
    expect(task.model).toBe(`${PRO}@hiapi`); // the task still reads as the client's model (§14: base@route)
    expect(task.reshoot.upstream).toMatchObject({ engine: 'hiapi', model: MODEL });
  }, 120_000);

  it('RESHOOT_HIAPI_UPSTREAM_MODELS maps a model on top of the default: the standard name to the slashed one, Pro still mapped', async () => {
    const standard = await run(linked, MODEL, 'on a walnut desk');
    expect(standard.task.status, JSON.stringify(standard.task.error)).toBe('success');
    expect(standard.sent.model).toBe(SLASHED);
    expect(standard.task.reshoot.upstream.model).toBe(SLASHED);
    expect(linked.reshoot.config.engines.hiapi?.models).toEqual({ [PRO]: MODEL, [MODEL]: SLASHED });
  }, 120_000);

  it('is checked at start: ours=theirs entries, our side a served model, only with the hiapi engine', () => {
    const base = { RESHOOT_HIAPI_UPSTREAM_URL: 'https://api.example.com', RESHOOT_HIAPI_UPSTREAM_KEY: 'sk-x' };
    expect(loadConfig(base).engines.hiapi?.models).toEqual({ [PRO]: MODEL });
    expect(loadConfig({ ...base, RESHOOT_HIAPI_UPSTREAM_MODELS: ` ${PRO} = ${PRO} , ` }).engines.hiapi?.models).toEqual({ [PRO]: PRO });
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ ...base, RESHOOT_HIAPI_UPSTREAM_MODELS: 'gpt-image-2-image-to-image' })).toMatch(/RESHOOT_HIAPI_UPSTREAM_MODELS.*expected ours=theirs/s);
    expect(refused({ ...base, RESHOOT_HIAPI_UPSTREAM_MODELS: 'dall-e-3=gpt-image-2/image-to-image' })).toMatch(/"dall-e-3": not a model this server serves/);
    expect(refused({ ...base, RESHOOT_HIAPI_UPSTREAM_MODELS: `${MODEL}=a,${MODEL}=b` })).toMatch(/mapped twice/);
    expect(refused({ RESHOOT_HIAPI_UPSTREAM_MODELS: `${PRO}=${MODEL}` })).toMatch(/RESHOOT_HIAPI_UPSTREAM_MODELS: the hiapi engine is not configured/);
  });
});
