import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3BlobConfig } from '../../src/config.js';
import { createS3BlobStore } from '../../src/store/blobs/s3-blobs.js';
import { openDatabase } from '../../src/store/sqlite/database.js';
import { createSqliteStore } from '../../src/store/sqlite/store.js';
import { createJanitor } from '../../src/tasks/janitor.js';
import { renderPackshot } from '../fixtures/index.js';
import { apiClient, MODEL } from '../helpers/api.js';
import { startTestS3 } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The whole server on an S3-compatible bucket (s3rver on loopback): uploads, sources and outputs go to
 * the bucket, downloads stream through `/files/...` from any API node, or redirect to a presigned GET.
 */
const s3 = await startTestS3('reshoot-api');
if ('skip' in s3) console.warn(`[skipped] API on S3 blobs: ${s3.skip}`);
const bucket = 'skip' in s3 ? null : s3;

describe.runIf(bucket !== null)('the API with RESHOOT_BLOB_URL=s3://…', () => {
  let server: TestServer;
  /** a second API node on the same database and bucket, answering downloads with presigned redirects */
  let presigning: TestServer;
  let png: Buffer;
  let output: { url: string; taskId: string };
  let downloaded: Buffer;

  const objects = async (prefix: string) =>
    ((await bucket!.client.send(new ListObjectsV2Command({ Bucket: bucket!.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);

  beforeAll(async () => {
    server = await startTestServer(bucket!.env('run'));
    presigning = await startTestServer({ ...bucket!.env('run'), RESHOOT_DATA_DIR: server.dataDir, RESHOOT_ROLE: 'api', RESHOOT_API_KEYS: server.apiKey, RESHOOT_S3_PRESIGN: 'true' });
    png = (await renderPackshot({ product: 'can', background: 'white', width: 400, height: 400 })).png;
  });
  afterAll(async () => {
    await presigning?.close();
    await server?.close();
    await bucket!.close();
  });

  it('stores the upload, the source and the output in the bucket, none on local disk', async () => {
    const api = apiClient(server);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'product.png');
    const up = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { authorization: `Bearer ${server.apiKey}` }, body: form });
    expect(up.status).toBe(200);
    const uploadUrl = ((await up.json()) as { data: { url: string } }).data.url;
    expect(uploadUrl).toMatch(new RegExp(`^${server.url}/files/uploads/`));

    const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on terrazzo', input_urls: [uploadUrl], aspect_ratio: '1:1' } });
    expect(created.status).toBe(200);
    const { task } = await api.wait(created.body.data.taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    output = { url: task.output[0].url, taskId: task.taskId };

    const uploadKey = new URL(uploadUrl).pathname.replace(/^\/files\//, '');
    expect(await objects('run/uploads/')).toEqual([`run/${uploadKey}`]);
    // the output, and the matte its product was cut out with (Fix cutout)
    expect(await objects(`run/tasks/${task.taskId}/`)).toEqual([`run/tasks/${task.taskId}/0.png`, `run/tasks/${task.taskId}/matte-0.png`]);
    expect(await objects('run/sources/')).toHaveLength(1);
    expect(fs.existsSync(path.join(server.dataDir, 'blobs'))).toBe(false);
  });

  it('streams the output through /files with its type, ETag, conditional GET and ranges', async () => {
    const full = await fetch(output.url);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/png');
    expect(full.headers.get('cache-control')).toMatch(/^private, max-age=\d+, immutable$/);
    downloaded = Buffer.from(await full.arrayBuffer());
    expect(full.headers.get('content-length')).toBe(String(downloaded.length));
    const meta = await sharp(downloaded).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1024, 1024]);

    const etag = full.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/); // the object's own tag
    const again = await request(output.url, { headers: { 'if-none-match': etag } });
    await again.body.dump();
    expect(again.statusCode).toBe(304);
    const stale = await request(output.url, { headers: { 'if-match': '"0000"' } });
    await stale.body.dump();
    expect(stale.statusCode).toBe(412);

    const part = await fetch(output.url, { headers: { range: 'bytes=100-1123' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1123/${downloaded.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(downloaded.subarray(100, 1124));
    const tail = await fetch(output.url, { headers: { range: 'bytes=-50' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(downloaded.subarray(downloaded.length - 50));
    const beyond = await fetch(output.url, { headers: { range: `bytes=${downloaded.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${downloaded.length}`);

    const head = await fetch(output.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(downloaded.length));
  });

  it('builds a later turn on the source kept in the bucket', async () => {
    const api = apiClient(server);
    const turn = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'warmer light', input_urls: [output.url] } });
    const { task } = await api.wait(turn.body.data.taskId);
    expect(task.status, JSON.stringify(task.error)).toBe('success');
    expect(task.reshoot.lineage.parent).toBe(output.taskId);
    expect(await objects(`run/tasks/${task.taskId}/`)).toHaveLength(2);
  });

  it('streams a task\'s matte and source from the bucket on either API node', async () => {
    for (const node of [server, presigning]) {
      const get = (p: string) => fetch(`${node.url}${p}`, { headers: { authorization: `Bearer ${server.apiKey}` } });
      const matte = await get(`/v1/tasks/${output.taskId}/matte?ref=0`);
      expect(matte.status).toBe(200);
      expect(matte.headers.get('content-type')).toBe('image/png');
      const meta = await sharp(Buffer.from(await matte.arrayBuffer())).metadata();
      expect([meta.width, meta.height, meta.channels]).toEqual([400, 400, 1]);
      const source = await get(`/v1/tasks/${output.taskId}/source?ref=0`);
      expect(source.status).toBe(200);
      expect(source.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await source.arrayBuffer()).equals(png)).toBe(true);
    }
  });

  it('answers the same signed link on another API node, streamed or redirected to a presigned GET that lasts as long', async () => {
    const onOther = output.url.replace(server.url, presigning.url);
    const res = await fetch(onOther, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const target = new URL(res.headers.get('location')!);
    expect(`${target.origin}${target.pathname}`).toBe(`${bucket!.endpoint}/${bucket!.bucket}/run/tasks/${output.taskId}/0.png`);
    const linkLeft = Number(new URL(output.url).searchParams.get('expires')) - Math.floor(Date.now() / 1000);
    expect(Math.abs(Number(target.searchParams.get('X-Amz-Expires')) - linkLeft)).toBeLessThanOrEqual(5);
    const fromBucket = await fetch(target);
    expect(fromBucket.status).toBe(200);
    expect(fromBucket.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await fromBucket.arrayBuffer())).toEqual(downloaded);
    // followed the way a browser or curl -L would
    expect(Buffer.from(await (await fetch(onOther)).arrayBuffer())).toEqual(downloaded);

    // the link's signature is still checked before any redirect
    const forged = await fetch(onOther.replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), { redirect: 'manual' });
    expect(forged.status).toBe(403);
    expect((await forged.json()).error_code).toBe('FORBIDDEN');
  });

  it('answers 404 in the envelope once the object is gone from the bucket, on either node', async () => {
    const api = apiClient(server);
    const created = await api.post('/v1/tasks', { model: MODEL, input: { prompt: 'on linen', input_urls: [output.url] } });
    const { task } = await api.wait(created.body.data.taskId);
    expect(task.status).toBe('success');
    await bucket!.client.send(new DeleteObjectCommand({ Bucket: bucket!.bucket, Key: `run/tasks/${task.taskId}/0.png` }));
    for (const url of [task.output[0].url, task.output[0].url.replace(server.url, presigning.url)]) {
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 404, error_code: 'NOT_FOUND' });
    }
  });

  it('is ready while the bucket answers, and not ready (503, naming the bucket) when it does not exist', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const lost = await startTestServer({ ...bucket!.env('run'), RESHOOT_BLOB_URL: 's3://no-such-bucket/run', RESHOOT_ROLE: 'api' });
    try {
      const res = await fetch(`${lost.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error_code: string; message: string };
      expect(body.error_code).toBe('SERVICE_UNAVAILABLE');
      expect(body.message).toContain('the bucket no-such-bucket does not exist');
    } finally {
      await lost.close();
    }
  });

  it('the sweep deletes expired outputs, uploads and the sources nothing builds on from the bucket', async () => {
    expect(await objects('run/tasks/')).not.toEqual([]);
    const db = openDatabase(path.join(server.dataDir, 'reshoot.db'));
    try {
      const blobs = createS3BlobStore(server.reshoot.config.blobs as S3BlobConfig);
      const logger = pino({ level: 'silent' });
      const today = createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800 });
      expect(await today.sweep()).toMatchObject({ outputs: 0, uploads: 0, sources: 0 });
      // eight days on every link has run out
      const later = createJanitor({ store: createSqliteStore(db), blobs, logger, outputTtlSeconds: 604800, nowMs: () => Date.now() + 8 * 86400_000 });
      const swept = await later.sweep();
      expect(swept.outputs).toBeGreaterThanOrEqual(3);
      expect(swept.uploads).toBe(1);
      expect(swept.sources).toBe(1);
      expect(await objects('run/')).toEqual([]);
    } finally {
      db.close();
    }
  });
});
