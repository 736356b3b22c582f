import { randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';

// ulid's default generator asks the OS for one random byte per character, which dominated the cost
// of a create under load (bench/api.bench.ts). Draw from a pooled buffer of CSPRNG bytes instead.
let pool = randomBytes(4096);
let offset = 0;
function pooledRandom(): number {
  if (offset >= pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  return pool[offset++]! / 256;
}

const next = monotonicFactory(pooledRandom);

/** `tk-hiapi-` + 26-character uppercase Crockford ULID: 35 characters (docs/contract.md §1). */
export const newTaskId = (now = Date.now()): string => `tk-hiapi-${next(now)}`;

export const TASK_ID_RE = /^tk-hiapi-[0-9A-HJKMNP-TV-Z]{26}$/;

/** Ids for our own rows (keys, uploads); prefixed so a log line says what it names. */
export const newId = (prefix: string, now = Date.now()): string => `${prefix}_${next(now).toLowerCase()}`;
