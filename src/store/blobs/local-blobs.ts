import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { assertSafeBlobKey, blobContentType, isSafeBlobKey, type BlobStat, type BlobStore } from './blob-store.js';

// The interface moved to blob-store.ts; janitor, server and their tests still import it from here.
export { isSafeBlobKey, type BlobStore } from './blob-store.js';

/** Blobs as files under `root` (the embedded default: `<data dir>/blobs`). */
export function createLocalBlobStore(root: string): BlobStore {
  const resolve = (key: string) => {
    assertSafeBlobKey(key);
    return path.join(root, key);
  };
  /** the file's stats if the key names a stored file */
  const statFile = async (key: string) => {
    if (!isSafeBlobKey(key)) return null;
    const st = await fs.stat(resolve(key)).catch(() => null);
    return st?.isFile() ? st : null;
  };
  return {
    location: `disk ${root}`,
    async put(key, data) {
      const file = resolve(key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      // Write beside, then rename: a reader never sees a half-written file.
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(tmp, data);
      await fs.rename(tmp, file);
    },
    async read(key) {
      if (!(await statFile(key))) return null;
      return fs.readFile(resolve(key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
    },
    async stat(key): Promise<BlobStat | null> {
      const st = await statFile(key);
      if (!st) return null;
      // the weak tag @fastify/send gave these files before the store served them itself
      const etag = `W/"${st.size.toString(16)}-${st.mtime.getTime().toString(16)}"`;
      return { size: st.size, mtimeMs: st.mtimeMs, etag, contentType: blobContentType(key) };
    },
    async stream(key, range) {
      // Opened first, so a missing file rejects here rather than erroring mid-stream.
      const handle = await fs.open(resolve(key), 'r');
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    },
    exists: async (key) => (await statFile(key)) !== null,
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
