import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PermanentTaskError, RetryableTaskError } from '../../errors.js';
import { checkImage } from '../codec.js';
import type { AddressGuard } from './address-guard.js';
import { FetchError, fetchGuarded, type FetchLimits } from './fetch-guarded.js';

export interface ResolvedInput {
  /** local file holding the reference's bytes */
  path: string;
  /** blob key when the URL was one of our own (uploads, earlier outputs): no network fetch */
  ownKey?: string;
  /** delete after the task (downloads and data: URIs) */
  temporary: boolean;
}

export interface ResolveDeps {
  guard: AddressGuard;
  limits: FetchLimits;
  maxPixels: number;
  tmpDir: string;
  /** blob key behind one of our own signed URLs (still valid), or null */
  ownKey(url: string): string | null;
  /** a stored blob's bytes (uploads, outputs), or null if it is gone */
  readBlob(key: string): Promise<Buffer | null>;
}

/**
 * Turns every `input_urls` entry into a local, checked image file. A reference that cannot be had or
 * is not a usable image ends the task with a message naming its position, e.g.
 * `input_urls[1]: download failed (HTTP 404)`. Network hiccups stay retryable.
 */
export async function resolveInputs(
  urls: readonly string[],
  deps: ResolveDeps,
  signal?: AbortSignal,
  /** position of urls[0] in input_urls, for messages */
  offset = 0,
): Promise<ResolvedInput[]> {
  await fs.mkdir(deps.tmpDir, { recursive: true });
  const out: ResolvedInput[] = [];
  try {
    for (const [i, url] of urls.entries()) {
      const where = `input_urls[${i + offset}]`;
      let bytes: Buffer | null = null;
      let resolved: ResolvedInput;
      const own = deps.ownKey(url);
      if (own) {
        bytes = await deps.readBlob(own);
        if (!bytes) throw new PermanentTaskError(`${where}: this server's file is gone (expired or deleted)`);
        // a copy beside the downloads: the blob may live in a bucket, and the engine reads files
        resolved = { path: await writeTemp(deps.tmpDir, bytes), ownKey: own, temporary: true };
      } else if (url.startsWith('data:')) {
        bytes = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
        if (bytes.length > deps.limits.maxBytes) throw new PermanentTaskError(`${where}: data URI is over the ${deps.limits.maxBytes / 1024 / 1024} MB limit`);
        resolved = { path: await writeTemp(deps.tmpDir, bytes), temporary: true };
      } else {
        try {
          bytes = (await fetchGuarded(url, deps.guard, deps.limits, signal)).bytes;
        } catch (err) {
          if (err instanceof FetchError) {
            if (err.retryable) throw new RetryableTaskError(`${where}: ${err.message}`, { cause: err });
            throw new PermanentTaskError(`${where}: ${err.message}`, 'TASK_FAILED', { cause: err });
          }
          throw err;
        }
        resolved = { path: await writeTemp(deps.tmpDir, bytes), temporary: true };
      }
      out.push(resolved);
      try {
        await checkImage(bytes, deps.maxPixels);
      } catch (err) {
        throw new PermanentTaskError(`${where}: ${(err as Error).message}`, 'TASK_FAILED', { cause: err });
      }
    }
    return out;
  } catch (err) {
    await releaseInputs(out);
    throw err;
  }
}

export async function releaseInputs(inputs: readonly ResolvedInput[]): Promise<void> {
  await Promise.all(inputs.filter((i) => i.temporary).map((i) => fs.rm(i.path, { force: true })));
}

async function writeTemp(dir: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, `ref-${Date.now()}-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(file, bytes);
  return file;
}
