import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestS3 } from '../../../test/helpers/s3.js';
import type { BlobStore } from './blob-store.js';
import { createLocalBlobStore } from './local-blobs.js';
import { createS3BlobStore, MAX_PRESIGN_SECONDS } from './s3-blobs.js';

const s3 = await startTestS3();
if ('skip' in s3) console.warn(`[skipped] S3 blob store tests: ${s3.skip}`);
const server = 'skip' in s3 ? null : s3;
afterAll(() => server?.close());

const localRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-blobs-'));
afterAll(() => fs.rm(localRoot, { recursive: true, force: true }));

const s3Store = (prefix: string, bucket = server!.bucket) =>
  createS3BlobStore({ bucket, prefix, region: 'us-east-1', endpoint: server!.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });

const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) & 0xff));

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const stores: Array<[string, () => BlobStore, boolean]> = [
  ['local disk', () => createLocalBlobStore(localRoot), true],
  ['S3 (s3rver)', () => s3Store('contract/run'), server !== null],
];

describe.each(stores)('BlobStore contract: %s', (_name, make, available) => {
  const store = available ? make() : (null as unknown as BlobStore);

  it.runIf(available)('puts and reads back, with size, validators and a type from the extension', async () => {
    await store.put('tasks/t1/0.png', bytes);
    expect(await store.read('tasks/t1/0.png')).toEqual(bytes);
    const st = await store.stat('tasks/t1/0.png');
    expect(st).toMatchObject({ size: bytes.length, contentType: 'image/png' });
    expect(st!.etag).toMatch(/^(W\/)?".+"$/);
    expect(Math.abs(st!.mtimeMs - Date.now())).toBeLessThan(60_000);
    expect(await store.exists('tasks/t1/0.png')).toBe(true);
    // a source has no extension
    await store.put('sources/abc', bytes.subarray(0, 10));
    expect((await store.stat('sources/abc'))!.contentType).toBe('application/octet-stream');
    // an overwrite replaces the bytes and changes the validator
    await store.put('tasks/t1/0.png', bytes.subarray(0, 100));
    const again = await store.stat('tasks/t1/0.png');
    expect(again!.size).toBe(100);
    expect(again!.etag).not.toBe(st!.etag);
    expect(await store.read('tasks/t1/0.png')).toEqual(bytes.subarray(0, 100));
  });

  it.runIf(available)('answers null / false for what is not there and refuses keys that leave the store', async () => {
    expect(await store.read('tasks/none/0.png')).toBeNull();
    expect(await store.stat('tasks/none/0.png')).toBeNull();
    expect(await store.exists('tasks/none/0.png')).toBe(false);
    await expect(store.stream('tasks/none/0.png')).rejects.toThrow();
    expect(await store.stat('../outside')).toBeNull();
    await expect(store.put('../outside', bytes)).rejects.toThrow(/relative blob key/);
    await expect(store.put('/abs/path', bytes)).rejects.toThrow(/relative blob key/);
  });

  it.runIf(available)('streams the whole blob or one byte range of it', async () => {
    await store.put('uploads/u1.jpg', bytes);
    expect(await drain(await store.stream('uploads/u1.jpg'))).toEqual(bytes);
    expect(await drain(await store.stream('uploads/u1.jpg', { start: 100, end: 199 }))).toEqual(bytes.subarray(100, 200));
    expect(await drain(await store.stream('uploads/u1.jpg', { start: 4990, end: 4999 }))).toEqual(bytes.subarray(4990));
  });

  it.runIf(available)('lists the blobs directly under a folder with their times, and removes them', async () => {
    await store.put('listing/a.png', bytes);
    await store.put('listing/b', bytes);
    await store.put('listing/deeper/c.png', bytes);
    const listed = await store.list('listing');
    expect(listed.map((b) => b.key).sort()).toEqual(['listing/a.png', 'listing/b']);
    for (const b of listed) expect(Math.abs(b.mtimeMs - Date.now())).toBeLessThan(60_000);
    expect(await store.list('nothing-here')).toEqual([]);
    await store.remove('listing/a.png');
    await store.remove('listing/a.png'); // removing what is gone is not an error
    expect((await store.list('listing')).map((b) => b.key)).toEqual(['listing/b']);
    expect(await store.exists('listing/a.png')).toBe(false);
  });

  it.runIf(available)('touch says whether the blob exists and leaves its bytes alone', async () => {
    expect(await store.touch('sources/missing')).toBe(false);
    await store.put('sources/kept', bytes);
    expect(await store.touch('sources/kept')).toBe(true);
    expect(await store.read('sources/kept')).toEqual(bytes);
    expect((await store.list('sources')).map((b) => b.key)).toContain('sources/kept');
  });

  it.runIf(available)('is ready when it can be written or reached', async () => {
    await expect(store.check()).resolves.toBeUndefined();
  });
});

describe('local disk', () => {
  it('touch moves a blob\'s listed time to now', async () => {
    const store = createLocalBlobStore(localRoot);
    await store.put('sources/old', bytes);
    const hourAgo = new Date(Date.now() - 3600_000);
    await fs.utimes(path.join(localRoot, 'sources/old'), hourAgo, hourAgo);
    const before = (await store.list('sources')).find((b) => b.key === 'sources/old')!.mtimeMs;
    expect(before).toBeLessThan(Date.now() - 3500_000);
    await store.touch('sources/old');
    const after = (await store.list('sources')).find((b) => b.key === 'sources/old')!.mtimeMs;
    expect(after).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps files under its root, where the embedded default has always kept them, and has no presigned links', async () => {
    const store = createLocalBlobStore(localRoot);
    await store.put('tasks/t9/0.webp', bytes);
    expect(await fs.readFile(path.join(localRoot, 'tasks/t9/0.webp'))).toEqual(bytes);
    expect(store.presign).toBeUndefined();
  });
});

describe.runIf(server !== null)('S3', () => {
  it('keeps objects under the prefix, out of sight of a store with another prefix', async () => {
    const a = s3Store('tenant-a/blobs');
    const b = s3Store('tenant-b');
    await a.put('tasks/x/0.png', bytes);
    const raw = await server!.client.send(new ListObjectsV2Command({ Bucket: server!.bucket, Prefix: 'tenant-a/' }));
    expect(raw.Contents?.map((o) => o.Key)).toEqual(['tenant-a/blobs/tasks/x/0.png']);
    const head = await server!.client.send(new HeadObjectCommand({ Bucket: server!.bucket, Key: 'tenant-a/blobs/tasks/x/0.png' }));
    expect(head.ContentType).toBe('image/png');
    expect(await b.exists('tasks/x/0.png')).toBe(false);
    expect(await b.list('tasks/x')).toEqual([]);
  });

  it('touch copies the object onto itself with new metadata (what renews LastModified on S3 and MinIO)', async () => {
    // s3rver keeps its file's mtime on such a copy, so the renewed time itself cannot be seen here;
    // the metadata shows the copy happened.
    const store = s3Store('touch');
    await store.put('sources/s1', bytes);
    const t0 = Date.now();
    expect(await store.touch('sources/s1')).toBe(true);
    const head = await server!.client.send(new HeadObjectCommand({ Bucket: server!.bucket, Key: 'touch/sources/s1' }));
    expect(Number(head.Metadata?.['reshoot-used'])).toBeGreaterThanOrEqual(t0);
    expect(head.ContentLength).toBe(bytes.length);
  });

  it('presigns a GET that serves the same bytes, for as long as asked (at most 7 days)', async () => {
    const store = s3Store('presign');
    await store.put('tasks/p/0.png', bytes);
    const url = await store.presign!('tasks/p/0.png', 3600);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('3600');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
    const long = await store.presign!('tasks/p/0.png', 10 * 365 * 86400);
    expect(new URL(long).searchParams.get('X-Amz-Expires')).toBe(String(MAX_PRESIGN_SECONDS));
  });

  it('is not ready when the bucket does not exist', async () => {
    await expect(s3Store('x', 'no-such-bucket').check()).rejects.toThrow('the bucket no-such-bucket does not exist');
  });
});
