// Downloads through `/files/...`: `node --import tsx bench/files.bench.ts`.
// One output-sized PNG, served by a server in its own process (role api) from local disk, streamed
// from an S3-compatible bucket (s3rver on loopback, in this process), or answered with a 302 to a
// presigned GET; a direct GET on s3rver shows what the store itself manages. s3rver is a test server
// that writes to a local disk: its figures say what reshoot adds, not what AWS S3 or MinIO deliver.
import autocannon from 'autocannon';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLocalBlobStore } from '../src/store/blobs/local-blobs.js';
import { createS3BlobStore } from '../src/store/blobs/s3-blobs.js';
import { createUrlSigner } from '../src/store/blobs/signed-urls.js';
import { renderPackshot } from '../test/fixtures/index.js';
import { startTestS3 } from '../test/helpers/s3.js';
import { startBenchServer, type BenchServer } from './server.js';
import { printTable } from './table.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 8;
const SECRET = 'bench-signing-secret-0123456789';
const KEY = 'tasks/bench/0.png';

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const s3 = await startTestS3('reshoot-bench');
if ('skip' in s3) throw new Error(`s3rver is needed for this benchmark: ${s3.skip}`);
const png = (await renderPackshot({ product: 'can', background: 'white', width: 1024, height: 1024 })).png;
const rows: string[][] = [];
/** `bytesEach` null: the answer is a 302, counted as the expected status rather than as an error */
const row = (name: string, r: autocannon.Result, bytesEach: number | null) => {
  const unexpected = bytesEach === null ? r['2xx'] : r['3xx'];
  const errors = r.errors + r.timeouts + r['4xx'] + r['5xx'] + unexpected;
  const mbs = bytesEach === null ? '–' : ((r.requests.average * bytesEach) / 2 ** 20).toFixed(0);
  rows.push([name, r.requests.average.toFixed(0), mbs, r.latency.p50.toFixed(1), r.latency.p99.toFixed(1), String(errors)]);
};
const s3Env = { ...s3.env('bench'), RESHOOT_SIGNING_SECRET: SECRET, RESHOOT_ROLE: 'api' };
const servers: BenchServer[] = [];
const dirs: string[] = [];
const dataDir = async () => {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-bench-files-'));
  dirs.push(d);
  return d;
};
const link = (server: BenchServer) => createUrlSigner(SECRET, () => server.url).sign(KEY, Math.floor(Date.now() / 1000) + 3600);

try {
  const localDir = await dataDir();
  await createLocalBlobStore(path.join(localDir, 'blobs')).put(KEY, png);
  const local = await startBenchServer({ RESHOOT_ROLE: 'api', RESHOOT_DATA_DIR: localDir, RESHOOT_SIGNING_SECRET: SECRET });
  servers.push(local);
  const bucket = createS3BlobStore({ bucket: s3.bucket, prefix: 'bench', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await bucket.put(KEY, png);
  const streamed = await startBenchServer({ ...s3Env, RESHOOT_DATA_DIR: await dataDir() });
  servers.push(streamed);
  const presigned = await startBenchServer({ ...s3Env, RESHOOT_DATA_DIR: await dataDir(), RESHOOT_S3_PRESIGN: 'true' });
  servers.push(presigned);

  const scenarios: Array<[string, string, number | null]> = [
    ['GET /files, local disk', link(local), png.length],
    ['GET /files, S3 streamed through the API', link(streamed), png.length],
    ['GET /files, S3 presigned (the 302 only)', link(presigned), null],
    ['GET on s3rver directly (presigned URL)', await bucket.presign!(KEY, 3600), png.length],
  ];
  for (const [name, url, bytes] of scenarios) {
    await run({ url, connections: 2, duration: 1 }); // warm up
    row(name, await run({ url, connections: CONNECTIONS, duration: DURATION }), bytes);
  }
} finally {
  for (const s of servers) await s.stop();
  await s3.close();
  for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
}

console.log(`\n/files downloads of a ${(png.length / 2 ** 20).toFixed(2)} MB PNG (${os.cpus().length} cores, ${CONNECTIONS} connections, ${DURATION} s each, node ${process.version})\n`);
printTable(['scenario', 'req/s', 'MB/s', 'p50 ms', 'p99 ms', 'errors'], rows);
