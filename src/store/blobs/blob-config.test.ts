import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/index.js';
import { configFromFlags } from '../../cli/commands/serve.js';
import { loadConfig } from '../../config.js';
import { createBlobStore } from './index.js';

describe('blob store settings', () => {
  it('keeps blobs under the data dir when RESHOOT_BLOB_URL is unset', () => {
    const config = loadConfig({ RESHOOT_DATA_DIR: '/srv/reshoot' });
    expect(config.blobs).toEqual({ kind: 'local' });
    expect(createBlobStore(config).location).toBe(`disk ${path.resolve('/srv/reshoot/blobs')}`);
  });

  it('reads the bucket, prefix, endpoint, path style, presigning and credentials', () => {
    const config = loadConfig({
      RESHOOT_BLOB_URL: 's3://reshoot-media/prod/blobs/',
      RESHOOT_S3_ENDPOINT: 'http://minio:9000/',
      RESHOOT_S3_PUBLIC_ENDPOINT: 'https://media.example.com',
      RESHOOT_S3_REGION: 'eu-central-1',
      RESHOOT_S3_FORCE_PATH_STYLE: 'true',
      RESHOOT_S3_PRESIGN: 'yes',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret-example',
    });
    expect(config.blobs).toEqual({
      kind: 's3',
      bucket: 'reshoot-media',
      prefix: 'prod/blobs',
      region: 'eu-central-1',
      endpoint: 'http://minio:9000',
      publicEndpoint: 'https://media.example.com',
      forcePathStyle: true,
      presign: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-example' },
    });
    expect(createBlobStore(config).location).toBe('s3://reshoot-media/prod/blobs at http://minio:9000');
  });

  it('defaults to AWS S3 in AWS_REGION (or us-east-1), virtual-hosted, streamed, with the SDK\'s credential chain', () => {
    expect(loadConfig({ RESHOOT_BLOB_URL: 's3://bucket-a', AWS_REGION: 'us-west-2' }).blobs).toEqual({
      kind: 's3', bucket: 'bucket-a', prefix: '', region: 'us-west-2', endpoint: undefined, publicEndpoint: undefined, forcePathStyle: false, presign: false, credentials: undefined,
    });
    expect(loadConfig({ RESHOOT_BLOB_URL: 's3://bucket-a' }).blobs).toMatchObject({ region: 'us-east-1' });
  });

  it('refuses a malformed URL, S3 settings without a bucket and half a key pair, naming each variable', () => {
    expect(() => loadConfig({ RESHOOT_BLOB_URL: 'https://bucket/x' })).toThrow('RESHOOT_BLOB_URL="https://bucket/x": expected s3://bucket or s3://bucket/prefix');
    expect(() => loadConfig({ RESHOOT_BLOB_URL: 's3://Bad_Bucket' })).toThrow('RESHOOT_BLOB_URL');
    expect(() => loadConfig({ RESHOOT_S3_ENDPOINT: 'ftp://x' })).toThrow('RESHOOT_S3_ENDPOINT="ftp://x": must be an http(s) URL');
    expect(() => loadConfig({ RESHOOT_S3_PRESIGN: 'true' })).toThrow('RESHOOT_S3_PRESIGN="true": only applies with RESHOOT_BLOB_URL=s3://bucket/prefix');
    expect(() => loadConfig({ RESHOOT_BLOB_URL: 's3://bucket-a', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).toThrow('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both or neither');
    // on local disk the AWS variables are none of reshoot's business
    expect(loadConfig({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' }).blobs).toEqual({ kind: 'local' });
  });

  it('takes --blob-url on serve and worker, like the variable', () => {
    for (const name of ['serve', 'worker']) {
      expect(buildProgram().commands.find((c) => c.name() === name)!.options.map((o) => o.long)).toContain('--blob-url');
    }
    expect(configFromFlags({ blobUrl: 's3://bucket-a/renders' }).blobs).toMatchObject({ kind: 's3', bucket: 'bucket-a', prefix: 'renders' });
  });
});
