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
  /** marks a stored blob as just used (its modification time becomes now); false if it does not exist */
  touch(key: string): Promise<boolean>;
  /** the blobs directly under a folder key such as `sources`, with their modification times */
  list(folder: string): Promise<Array<{ key: string; mtimeMs: number }>>;
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
    async touch(key) {
      const now = new Date();
      try {
        await fs.utimes(resolve(key), now, now);
        return true;
      } catch {
        return false;
      }
    },
    async list(folder) {
      const dir = resolve(folder);
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        return [];
      }
      const out: Array<{ key: string; mtimeMs: number }> = [];
      for (const name of names) {
        // half-written files (`*.tmp`, see put) are not blobs yet
        if (name.endsWith('.tmp') || !isSafeBlobKey(name)) continue;
        const st = await fs.stat(path.join(dir, name)).catch(() => null);
        if (st?.isFile()) out.push({ key: `${folder}/${name}`, mtimeMs: st.mtimeMs });
      }
      return out;
    },
    async check() {
      await fs.mkdir(root, { recursive: true });
      const probe = path.join(root, `.ready-${process.pid}`);
      await fs.writeFile(probe, 'ok');
      await fs.rm(probe, { force: true });
    },
  };
}
