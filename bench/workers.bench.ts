// Render throughput with 1, 2 and 3 worker processes: `npm run bench:workers [-- --model tiny] [--tasks N]`.
// The scaled-out stack as separate processes on this machine: one `--role api` node and N workers, each
// with a data dir of its own, sharing a throwaway Postgres, a Redis (BullMQ) and an S3 bucket (s3rver).
// Each worker renders one task at a time with one engine thread, so N workers are N renders at once.
// Every task has a reference of its own (no matte cache hits): 1K outputs from small packshots.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPackshot, type Background, type Product } from '../test/fixtures/index.js';
import { postgresUnavailable, startPostgres } from '../test/helpers/postgres.js';
import { redisUnavailable, startRedis } from '../test/helpers/redis.js';
import { startTestS3 } from '../test/helpers/s3.js';
import { writeTinySegmenterModel } from '../test/helpers/tiny-model.js';
import { startBenchServer } from './server.js';
import { printTable } from './table.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'sk-bench-workers-0123456789';
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const model = arg('--model') ?? 'real';
if (model !== 'real' && model !== 'tiny') throw new Error(`--model: expected real or tiny, got ${model}`);
const TASKS = Number(arg('--tasks') ?? 12);
const COUNTS = (arg('--workers') ?? '1,2,3').split(',').map(Number);

const missing = postgresUnavailable ?? redisUnavailable;
if (missing) {
  console.log(`bench:workers skipped: ${missing}`);
  process.exit(0);
}

const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-bench-workers-'));
// the optimised model is made once and shared by every worker (as the tests do)
const modelEnv: Record<string, string> = { RESHOOT_MODEL_CACHE_DIR: path.join(os.tmpdir(), 'reshoot-bench-models') };
if (model === 'tiny') {
  modelEnv.RESHOOT_MODEL_PATH = path.join(modelEnv.RESHOOT_MODEL_CACHE_DIR!, 'tiny-segmenter.onnx');
  writeTinySegmenterModel(modelEnv.RESHOOT_MODEL_PATH);
}

const products: Product[] = ['dripper', 'mug', 'cup', 'bottle', 'vase', 'can', 'box', 'chair'];
const backgrounds: Background[] = ['white', 'light-grey', 'sweep'];
/** a packshot no other task of the run uses: a product, a backdrop and a size of its own */
let made = 0;
async function reference(): Promise<string> {
  const n = made++;
  const size = 320 + 8 * Math.floor(n / (products.length * backgrounds.length));
  const png = (await renderPackshot({ product: products[n % products.length]!, background: backgrounds[Math.floor(n / products.length) % backgrounds.length]!, width: size, height: size })).png;
  return `data:image/png;base64,${png.toString('base64')}`;
}

const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
async function create(url: string, ref: string): Promise<string> {
  const body = { model: 'gpt-image-2-image-to-image', input: { prompt: 'on warm stone, soft window light', input_urls: [ref], aspect_ratio: '1:1' } };
  const res = await fetch(`${url}/v1/tasks`, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = (await res.json()) as { data: { taskId: string } };
  if (res.status !== 200) throw new Error(`create: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json.data.taskId;
}

/** resolves when every task is terminal; throws on a failure */
async function settle(url: string, ids: string[]): Promise<void> {
  const left = new Set(ids);
  while (left.size > 0) {
    for (const id of [...left]) {
      const res = await fetch(`${url}/v1/tasks/${id}`, { headers });
      const task = ((await res.json()) as { data: { status: string; error?: unknown } }).data;
      if (task.status === 'fail') throw new Error(`task ${id} failed: ${JSON.stringify(task.error)}`);
      if (task.status === 'success') left.delete(id);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/helpers/serve-child.ts')], {
    cwd: root,
    env: { ...process.env, ...env, RESHOOT_ROLE: 'worker' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('LISTENING')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

const [cluster, redis, s3] = await Promise.all([startPostgres(), startRedis(), startTestS3('reshoot-bench')]);
if ('skip' in s3) throw new Error(s3.skip);
const rows: string[][] = [];
try {
  for (const workers of COUNTS) {
    const env: Record<string, string> = {
      ...s3.env(`w${workers}`),
      ...modelEnv,
      RESHOOT_DATABASE_URL: await cluster.createDatabase(),
      RESHOOT_QUEUE_URL: redis.url,
      RESHOOT_API_KEYS: KEY,
      RESHOOT_FIRST_KEY: 'false',
      RESHOOT_RATE_LIMIT: 'off',
      RESHOOT_LOG_LEVEL: 'warn',
      RESHOOT_WORKER_CONCURRENCY: '1',
      RESHOOT_ENGINE_THREADS: '1',
    };
    const dirs: string[] = [];
    const dir = async () => {
      const d = await fs.mkdtemp(path.join(scratch, 'node-'));
      dirs.push(d);
      return d;
    };
    const api = await startBenchServer({ ...env, RESHOOT_ROLE: 'api', RESHOOT_DATA_DIR: await dir() });
    const children: ChildProcess[] = [];
    try {
      for (let i = 0; i < workers; i++) children.push(await startWorker({ ...env, RESHOOT_DATA_DIR: await dir() }));
      // warm-up: a task per worker loads each one's model (not timed)
      const warmRefs = await Promise.all(Array.from({ length: workers }, () => reference()));
      await settle(api.url, await Promise.all(warmRefs.map((r) => create(api.url, r))));
      // the references are drawn before the clock starts: the timed part is creates and renders
      const refs = await Promise.all(Array.from({ length: TASKS }, () => reference()));
      const started = performance.now();
      const ids: string[] = [];
      for (const r of refs) ids.push(await create(api.url, r));
      await settle(api.url, ids);
      const seconds = (performance.now() - started) / 1000;
      const perMin = (TASKS / seconds) * 60;
      rows.push([String(workers), String(TASKS), seconds.toFixed(1), perMin.toFixed(1), rows.length ? `${(perMin / Number(rows[0]![3])).toFixed(2)}x` : '1.00x']);
    } finally {
      for (const c of children) {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await exited;
      }
      await api.stop();
      for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
    }
  }
} finally {
  await s3.close();
  await redis.stop();
  await cluster.stop();
  await fs.rm(scratch, { recursive: true, force: true });
}

console.log(
  `\nRender throughput by worker processes: ${model === 'real' ? 'the shipped IS-Net model' : 'the tiny test segmentation model'}, 1024 px outputs, ` +
    `${TASKS} timed tasks each after one warm-up task per worker (${os.cpus().length} cores, node ${process.version})\n`,
);
printTable(['workers', 'tasks', 'seconds', 'tasks/min', 'vs 1 worker'], rows);
