// API throughput and latency with the engine not involved: `npm run bench:api`.
// The server runs in its own process (role api: no worker), autocannon drives it over loopback.
import autocannon from 'autocannon';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { startBenchServer } from './server.js';
import { printTable } from './table.js';

const KEY = 'sk-bench-0123456789';
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);

const createBody = JSON.stringify({
  model: 'gpt-image-2-image-to-image',
  input: { prompt: 'Place this exact white ceramic dripper on dark slate, dramatic side light', input_urls: ['https://example.com/p.jpg'], aspect_ratio: '1:1' },
});

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

// `--backend postgres`: tasks, keys and jobs in a throwaway Postgres cluster on loopback (sqlite: the data dir's file)
const backendAt = process.argv.indexOf('--backend');
const backend = backendAt > 0 ? process.argv[backendAt + 1] : 'sqlite';
if (backend !== 'sqlite' && backend !== 'postgres') throw new Error(`--backend: expected sqlite or postgres, got ${backend}`);
let cluster: TestPostgres | null = null;
const database: Record<string, string> = {};
if (backend === 'postgres') {
  cluster = await startPostgres();
  database.RESHOOT_DATABASE_URL = await cluster.createDatabase();
}

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-bench-'));
const server = await startBenchServer({ RESHOOT_ROLE: 'api', RESHOOT_DATA_DIR: dataDir, RESHOOT_API_KEYS: KEY, RESHOOT_QUEUE_MAX_DEPTH: '10000000', ...database });
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const rows: string[][] = [];
const row = (name: string, r: autocannon.Result, target: string) => {
  const errors = r.non2xx + r.errors + r.timeouts;
  rows.push([name, r.requests.average.toFixed(0), r.latency.p50.toFixed(1), r.latency.p99.toFixed(1), String(errors), target]);
};

try {
  // Warm up (JIT, the database's page cache).
  await run({ url: `${server.url}/v1/tasks`, method: 'POST', headers, body: createBody, connections: 10, duration: 2 });

  const maxCreate = await run({ url: `${server.url}/v1/tasks`, method: 'POST', headers, body: createBody, connections: 32, duration: DURATION });
  row('POST /v1/tasks, max rate (32 conns)', maxCreate, '>= 1500 req/s');

  const paced = await run({ url: `${server.url}/v1/tasks`, method: 'POST', headers, body: createBody, connections: 16, overallRate: 500, duration: DURATION });
  row('POST /v1/tasks at 500 req/s', paced, 'p99 <= 20 ms');

  const created = await fetch(`${server.url}/v1/tasks`, { method: 'POST', headers, body: createBody });
  const { data } = (await created.json()) as { data: { taskId: string } };
  const poll = await run({ url: `${server.url}/v1/tasks/${data.taskId}`, headers: { authorization: `Bearer ${KEY}` }, connections: 32, duration: DURATION });
  row('GET /v1/tasks/:id, max rate (32 conns)', poll, '>= 8000 req/s');
} finally {
  await server.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
  await cluster?.stop();
}

console.log(`\nAPI benchmark, ${backend} store (${os.cpus().length} cores, ${DURATION} s per scenario, node ${process.version})\n`);
printTable(['scenario', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'target'], rows);
