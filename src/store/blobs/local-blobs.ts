import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Output and upload files on local disk. Keys are relative paths such as `tasks/<taskId>/0.png`;
 * they never leave the root.
 */
export interface BlobStore {
  put(key: string, data: Uint8Array): Promise<void>;
  /** absolute path of a stored blob, or null if it does not exist */
  locate(key: string): Promise<string | null>;
  read(key: string): Promise<Buffer>;
  remove(key: string): Promise<void>;
  /** checks the disk is writable (readiness) */
  check(): Promise<void>;
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function isSafeBlobKey(key: string): boolean {
  return SAFE_KEY.test(key) && !key.split('/').includes('..');
}

export function createLocalBlobStore(root: string): BlobStore {
  const resolve = (key: string) => {
    if (!isSafeBlobKey(key)) throw new Error(`Expected a relative blob key for key but received ${JSON.stringify(key)}`);
    return path.join(root, key);
  };
  return {
    async put(key, data) {
      const file = resolve(key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      // Write beside, then rename: a reader never sees a half-written file.
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(tmp, data);
      await fs.rename(tmp, file);
    },
    async locate(key) {
      if (!isSafeBlobKey(key)) return null;
      const file = resolve(key);
      try {
        const st = await fs.stat(file);
        return st.isFile() ? file : null;
      } catch {
        return null;
      }
    },
    read: (key) => fs.readFile(resolve(key)),
    async remove(key) {
      await fs.rm(resolve(key), { force: true });
    },
    async check() {
      await fs.mkdir(root, { recursive: true });
      const probe = path.join(root, `.ready-${process.pid}`);
      await fs.writeFile(probe, 'ok');
      await fs.rm(probe, { force: true });
    },
  };
}
