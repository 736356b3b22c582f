// `npm run bench:soak`: the server under a steady mixed load for SOAK_SECONDS (default 600): task
// creates at a rate the renders keep up with, every task polled like a hiapi client until it is
// done, and reads of the task list and models on the side. Prints throughput, latency percentiles,
// errors, the server's RSS over time, and how many created tasks did not finish (must be 0).
// Not part of `npm run bench` (it takes ten minutes); loopback only, bounded in time and count.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderPackshot, type Product } from '../test/fixtures/index.js';
import { startBenchServer } from './server.js';
import { printTable } from './table.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const CREATES_PER_MINUTE = Number(process.env.SOAK_CREATES_PER_MINUTE ?? 30);
const READS_PER_SECOND = Number(process.env.SOAK_READS_PER_SECOND ?? 5);
const POLL_MS = 2000;
const DRAIN_SECONDS = 180;
const KEY = 'sk-soak-0123456789';

const products: Product[] = ['mug', 'bottle', 'can', 'cup'];
const uris = await Promise.all(
  products.map(async (product) => `data:image/png;base64,${(await renderPackshot({ product, background: 'white', width: 800, height: 800 })).png.toString('base64')}`),
);
const prompts = ['on dark slate, dramatic side light', 'on a cafe counter, warm morning light', 'on white marble, soft daylight', 'on a wooden table, garden behind'];

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-soak-'));
const server = await startBenchServer({ RESHOOT_DATA_DIR: dataDir, RESHOOT_API_KEYS: KEY });
const auth = { authorization: `Bearer ${KEY}` };

const latency: Record<string, number[]> = { create: [], poll: [], list: [], models: [] };
const errors: string[] = [];
const rss: Array<{ s: number; mb: number }> = [];
const created = new Map<string, { at: number; done?: number; status?: string }>();
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;

/** The envelope fields the soak reads: a task id from a create, a task's status from a poll. */
interface Envelope {
  error_code?: string;
  data?: { taskId?: string; status?: string; error?: { message: string } };
}

async function timed(kind: keyof typeof latency, url: string, init: RequestInit = {}): Promise<{ status: number; body: Envelope } | null> {
  const start = performance.now();
  try {
    const res = await fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as Envelope;
    latency[kind]!.push(performance.now() - start);
    if (res.status !== 200) errors.push(`${kind}: HTTP ${res.status} ${body?.error_code ?? ''}`);
    return { status: res.status, body };
  } catch (err) {
    errors.push(`${kind}: ${(err as Error).message}`);
    return null;
  }
}

async function serverRssMb(): Promise<number> {
  const status = await fs.readFile(`/proc/${server.pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function follow(taskId: string): Promise<void> {
  const entry = created.get(taskId)!;
  while (elapsed() < SECONDS + DRAIN_SECONDS) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const r = await timed('poll', `${server.url}/v1/tasks/${taskId}`);
    const status = r?.body.data?.status;
    if (status === 'success' || status === 'fail') {
      entry.done = elapsed();
      entry.status = status;
      if (status === 'fail') errors.push(`task ${taskId} failed: ${r!.body.data?.error?.message}`);
      return;
    }
  }
}

const followers: Array<Promise<void>> = [];
const sampler = setInterval(() => void serverRssMb().then((mb) => rss.push({ s: elapsed(), mb })), 10_000);
rss.push({ s: 0, mb: await serverRssMb() });

try {
  let n = 0;
  const createEvery = 60_000 / CREATES_PER_MINUTE;
  const readEvery = 1000 / READS_PER_SECOND;
  let nextCreate = 0;
  let nextRead = 0;
  while (elapsed() < SECONDS) {
    const nowMs = performance.now() - t0;
    if (nowMs >= nextCreate) {
      nextCreate += createEvery;
      const i = n++;
      const body = JSON.stringify({ model: 'gpt-image-2-image-to-image', input: { prompt: prompts[i % prompts.length], input_urls: [uris[i % uris.length]], seed: i } });
      const r = await timed('create', `${server.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const id = r?.body.data?.taskId;
      if (id) {
        created.set(id, { at: elapsed() });
        followers.push(follow(id));
      }
    }
    if (nowMs >= nextRead) {
      nextRead += readEvery;
      void timed(n % 5 === 0 ? 'models' : 'list', n % 5 === 0 ? `${server.url}/v1/models` : `${server.url}/v1/tasks?size=20`);
    }
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(nextCreate, nextRead) - (performance.now() - t0))));
  }
  await Promise.all(followers);
} finally {
  clearInterval(sampler);
  rss.push({ s: elapsed(), mb: await serverRssMb() });
  await server.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const finished = [...created.values()].filter((e) => e.done !== undefined);
const succeeded = finished.filter((e) => e.status === 'success');
const turnaround = finished.map((e) => e.done! - e.at);

console.log(`\nSoak: ${SECONDS} s at ${CREATES_PER_MINUTE} creates/min and ${READS_PER_SECOND} reads/s, polls every ${POLL_MS / 1000} s (${os.cpus().length} cores, node ${process.version}, load now ${os.loadavg()[0]!.toFixed(1)})\n`);
printTable(
  ['tasks created', 'succeeded', 'failed', 'lost (never finished)', 'renders/min', 'turnaround p50 s', 'turnaround p99 s', 'errors'],
  [[
    String(created.size),
    String(succeeded.length),
    String(finished.length - succeeded.length),
    String(created.size - finished.length),
    ((succeeded.length / SECONDS) * 60).toFixed(1),
    pct(turnaround, 50).toFixed(1),
    pct(turnaround, 99).toFixed(1),
    String(errors.length),
  ]],
);
console.log('');
printTable(
  ['request', 'count', 'p50 ms', 'p99 ms', 'max ms'],
  Object.entries(latency).map(([k, xs]) => [k, String(xs.length), pct(xs, 50).toFixed(1), pct(xs, 99).toFixed(1), Math.max(...xs).toFixed(1)]),
);
console.log('\nServer RSS over time (MB):');
const perMinute = rss.filter((r, i) => i === 0 || i === rss.length - 1 || Math.floor(r.s / 60) !== Math.floor(rss[i - 1]!.s / 60));
printTable(['at s', 'RSS MB'], perMinute.map((r) => [r.s.toFixed(0), r.mb.toFixed(0)]));
if (errors.length) console.log(`\nErrors (first 10):\n${errors.slice(0, 10).join('\n')}`);
process.exitCode = errors.length === 0 && created.size === finished.length ? 0 : 1;
