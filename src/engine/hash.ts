import { xxh64 } from '@node-rs/xxhash';

/**
 * The one module that imports @node-rs/xxhash (native, prebuilt per platform in its npm package).
 * The matte cache hashes the decoded pixels of every image (48 MB at 12 MP), so the hash is most of
 * a cache hit's cost. Measured on 48 MB (AMD EPYC, bench machine): XXH64 3 ms, this package's
 * XXH3-64/128 25-44 ms (its build does not vectorise them), SHA-1 28 ms, SHA-256 30 ms. So the key
 * is two XXH64 passes under different seeds: 128 bits for about 6 ms. Not a cryptographic hash:
 * use it for content addressing, never for anything an attacker gains by colliding.
 */

/** 128 bits of hash of `data` under a textual salt, as 32 hex digits. */
export function contentHash(data: Uint8Array, salt: string): string {
  const seed = xxh64(salt);
  const a = xxh64(data, seed), b = xxh64(data, seed ^ 0x9e3779b97f4a7c15n);
  return a.toString(16).padStart(16, '0') + b.toString(16).padStart(16, '0');
}

/** 64-bit hash of `data`, for integrity checks of stored bytes. */
export function checksum64(data: Uint8Array): bigint {
  return xxh64(data);
}
