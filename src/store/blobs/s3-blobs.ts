import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { assertSafeBlobKey, blobContentType, isSafeBlobKey, type BlobStat, type BlobStore } from './blob-store.js';

export interface S3BlobOptions {
  bucket: string;
  /** folder inside the bucket, without slashes at either end; '' for the bucket's root */
  prefix: string;
  region: string;
  /** S3-compatible endpoint (MinIO, R2, …); unset: AWS S3 */
  endpoint?: string;
  /** the endpoint presigned links are made for, when clients reach the store under another name than the server does */
  publicEndpoint?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key` (MinIO and most self-hosted stores need it) */
  forcePathStyle: boolean;
  /** unset: the SDK's default chain (AWS_* variables, profiles, instance roles) */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** The longest a SigV4 presigned URL may live. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const notFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

/**
 * Blobs as objects in an S3-compatible bucket, under `prefix/`. Every API node and worker sees the
 * same blobs, so any node can serve any file link. A blob's modification time is the object's
 * LastModified; `touch` renews it by copying the object onto itself with new metadata (no bytes move).
 */
export function createS3BlobStore(opts: S3BlobOptions): BlobStore {
  const base: S3ClientConfig = {
    region: opts.region,
    forcePathStyle: opts.forcePathStyle,
    // a copy: the config is frozen, and the SDK marks where the credentials it was given came from
    ...(opts.credentials ? { credentials: { ...opts.credentials } } : {}),
    requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
  };
  const client = new S3Client({ ...base, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
  const signer = opts.publicEndpoint ? new S3Client({ ...base, endpoint: opts.publicEndpoint }) : client;
  const Bucket = opts.bucket;
  const root = opts.prefix ? `${opts.prefix}/` : '';
  const objectKey = (key: string) => {
    assertSafeBlobKey(key);
    return root + key;
  };

  const stat = async (key: string): Promise<BlobStat | null> => {
    if (!isSafeBlobKey(key)) return null;
    try {
      const res = await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
      return {
        size: res.ContentLength ?? 0,
        mtimeMs: res.LastModified?.getTime() ?? 0,
        etag: res.ETag ?? `"${(res.ContentLength ?? 0).toString(16)}-${(res.LastModified?.getTime() ?? 0).toString(16)}"`,
        contentType: blobContentType(key),
      };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  };

  return {
    location: `s3://${opts.bucket}${opts.prefix ? `/${opts.prefix}` : ''}${opts.endpoint ? ` at ${opts.endpoint}` : ''}`,
    async put(key, data) {
      await client.send(new PutObjectCommand({ Bucket, Key: objectKey(key), Body: data, ContentType: blobContentType(key), ContentLength: data.length }));
    },
    async read(key) {
      if (!isSafeBlobKey(key)) return null;
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: objectKey(key) }));
        return Buffer.from(await res.Body!.transformToByteArray());
      } catch (err) {
        if (notFound(err)) return null;
        throw err;
      }
    },
    stat,
    async stream(key, range) {
      const res = await client.send(new GetObjectCommand({ Bucket, Key: objectKey(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      // In Node the SDK's body is a Readable (an IncomingMessage with the SDK's helpers mixed in).
      const body = res.Body;
      if (!(body instanceof Readable)) throw new Error(`the S3 client returned a ${typeof body} body for ${key}, not a stream`);
      return body;
    },
    exists: async (key) => (await stat(key)) !== null,
    async remove(key) {
      // DeleteObject answers 204 for a key that is not there too
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
    },
    async touch(key) {
      const Key = objectKey(key);
      try {
        await client.send(
          new CopyObjectCommand({
            Bucket,
            Key,
            CopySource: `${Bucket}/${Key.split('/').map(encodeURIComponent).join('/')}`,
            MetadataDirective: 'REPLACE',
            ContentType: blobContentType(key),
            Metadata: { 'reshoot-used': String(Date.now()) },
          }),
        );
        return true;
      } catch (err) {
        if (notFound(err)) return false;
        throw err;
      }
    },
    async list(folder) {
      const Prefix = `${objectKey(folder)}/`;
      const out: Array<{ key: string; mtimeMs: number }> = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix, Delimiter: '/', ContinuationToken }));
        for (const o of page.Contents ?? []) {
          const name = o.Key?.slice(Prefix.length);
          if (!name || !isSafeBlobKey(name)) continue;
          out.push({ key: `${folder}/${name}`, mtimeMs: o.LastModified?.getTime() ?? 0 });
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return out;
    },
    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
        const status = e.$metadata?.httpStatusCode;
        const why = status === 404 ? 'does not exist' : status === 403 ? 'refuses these credentials (403)' : `could not be reached (${e.name ?? 'error'}: ${e.message ?? ''})`;
        throw new Error(`the bucket ${Bucket} ${why}`, { cause: err });
      }
    },
    presign(key, expiresInSec) {
      const expiresIn = Math.min(MAX_PRESIGN_SECONDS, Math.max(1, Math.floor(expiresInSec)));
      return getSignedUrl(signer, new GetObjectCommand({ Bucket, Key: objectKey(key) }), { expiresIn });
    },
  };
}
