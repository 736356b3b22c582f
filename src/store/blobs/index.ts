import path from 'node:path';
import type { Config } from '../../config.js';
import type { BlobStore } from './blob-store.js';
import { createLocalBlobStore } from './local-blobs.js';
import { createS3BlobStore } from './s3-blobs.js';

export type { BlobStat, BlobStore, ByteRange } from './blob-store.js';

/** `<data dir>/blobs` by default; the bucket when RESHOOT_BLOB_URL names one. */
export function createBlobStore(config: Config): BlobStore {
  return config.blobs.kind === 's3' ? createS3BlobStore(config.blobs) : createLocalBlobStore(path.join(config.dataDir, 'blobs'));
}
