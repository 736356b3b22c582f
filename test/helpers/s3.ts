import { S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** s3rver's fixed credentials: it checks SigV4 signatures made with them */
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** the RESHOOT_* and AWS_* variables that point a server at the bucket under `prefix` */
  env(prefix: string): Record<string, string>;
  /** a client of its own, to look into the bucket behind the server's back */
  client: S3Client;
  close(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver, from npm) on 127.0.0.1, port 0, keeping its objects in a temp dir,
 * with one bucket made. Resolves to the reason instead when it cannot start, for the tests to skip
 * with (printed, never silent).
 */
export async function startTestS3(bucket = 'reshoot-test'): Promise<TestS3 | { skip: string }> {
  let S3rver: typeof import('s3rver').default;
  try {
    S3rver = (await import('s3rver')).default;
  } catch (err) {
    return { skip: `s3rver (a dev dependency) is not installed: ${(err as Error).message}` };
  }
  // s3rver's run() never rejects when it cannot listen (the error is thrown as an event), so a port
  // on loopback is tried first
  const probe = await new Promise<string | null>((resolve) => {
    const s = net.createServer();
    s.once('error', (err) => resolve(err.message));
    s.listen(0, '127.0.0.1', () => s.close(() => resolve(null)));
  });
  if (probe) return { skip: `no port on 127.0.0.1 for s3rver: ${probe}` };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  let port: number;
  try {
    port = (await server.run()).port;
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    return { skip: `s3rver could not start on 127.0.0.1: ${(err as Error).message}` };
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS });
  return {
    endpoint,
    bucket,
    client,
    env: (prefix) => ({
      RESHOOT_BLOB_URL: `s3://${bucket}/${prefix}`,
      RESHOOT_S3_ENDPOINT: endpoint,
      RESHOOT_S3_REGION: 'us-east-1',
      RESHOOT_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    }),
    async close() {
      client.destroy();
      await server.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
