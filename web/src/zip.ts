import { Zip, ZipPassThrough } from 'fflate';

/**
 * A zip built one entry at a time into Blob parts, so a batch of many large results never needs
 * them all in memory at once (a browser may keep big Blobs on disk). Entries are stored, not
 * compressed: PNG, JPEG and WebP are compressed already.
 */
export interface ZipBuilder {
  add(name: string, bytes: Uint8Array): void;
  /** the finished archive; no entry may be added after */
  finish(): Blob;
}

export function createZipBuilder(): ZipBuilder {
  const parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else pending.push(chunk);
  });
  const flush = () => {
    if (failure) throw failure;
    if (pending.length) parts.push(new Blob(pending as Uint8Array<ArrayBuffer>[]));
    pending = [];
  };
  const names = new Set<string>();
  return {
    add(name, bytes) {
      if (names.has(name)) throw new Error(`${name} is already in the zip`);
      names.add(name);
      const entry = new ZipPassThrough(name);
      zip.add(entry);
      // a pass-through entry with its last chunk is written out synchronously
      entry.push(bytes, true);
      flush();
    },
    finish() {
      zip.end();
      flush();
      return new Blob(parts, { type: 'application/zip' });
    },
  };
}
