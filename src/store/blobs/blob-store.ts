import type { Readable } from 'node:stream';

/** What the files route needs to answer a GET: size, validators and type. */
export interface BlobStat {
  size: number;
  mtimeMs: number;
  /** an entity tag, quoted as HTTP sends it (`W/"…"` or `"…"`) */
  etag: string;
  contentType: string;
}

/** Inclusive byte range, as in `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Outputs, uploads and sources (the references later turns build on). Keys are relative paths such
 * as `tasks/<taskId>/0.png`; nothing outside a store sees where the bytes are kept, so the same
 * server runs on local disk (`local-blobs.ts`) or on an S3-compatible bucket (`s3-blobs.ts`).
 */
export interface BlobStore {
  /** where blobs are kept, for the start log (`disk /data/blobs`, `s3://bucket/prefix`) */
  readonly location: string;
  put(key: string, data: Uint8Array): Promise<void>;
  /** the blob's bytes, or null if it does not exist */
  read(key: string): Promise<Buffer | null>;
  /** size, validators and content type, or null if it does not exist */
  stat(key: string): Promise<BlobStat | null>;
  /** the blob's bytes (or one range of them) as a stream; rejects if it does not exist */
  stream(key: string, range?: ByteRange): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  remove(key: string): Promise<void>;
  /** marks a stored blob as just used (its modification time becomes now); false if it does not exist */
  touch(key: string): Promise<boolean>;
  /** the blobs directly under a folder key such as `sources`, with their modification times */
  list(folder: string): Promise<Array<{ key: string; mtimeMs: number }>>;
  /** checks the store can be written (local disk) or reached (the bucket), for readiness */
  check(): Promise<void>;
  /**
   * A URL that fetches the blob straight from the store for `expiresInSec` seconds, where the store
   * can sign one (S3); absent on local disk.
   */
  presign?(key: string, expiresInSec: number): Promise<string>;
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function isSafeBlobKey(key: string): boolean {
  return SAFE_KEY.test(key) && !key.split('/').includes('..');
}

export function assertSafeBlobKey(key: string): void {
  if (!isSafeBlobKey(key)) throw new Error(`Expected a relative blob key for key but received ${JSON.stringify(key)}`);
}

/** Where a task's matte for its `ref`-th reference is kept, beside its output (`tasks/<taskId>/0.png`). */
export const matteKey = (taskId: string, ref: number): string => `tasks/${taskId}/matte-${ref}.png`;

const TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', avif: 'image/avif', tiff: 'image/tiff', gif: 'image/gif',
};

/** The Content-Type a blob is served with, from its key's extension. */
export function blobContentType(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return (dot > 0 && TYPES[name.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}
