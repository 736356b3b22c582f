import { monotonicFactory } from 'ulid';

const next = monotonicFactory();

/** `tk-hiapi-` + 26-character uppercase Crockford ULID: 35 characters (hiapi-contract.md §1). */
export const newTaskId = (now = Date.now()): string => `tk-hiapi-${next(now)}`;

export const TASK_ID_RE = /^tk-hiapi-[0-9A-HJKMNP-TV-Z]{26}$/;

/** Ids for our own rows (keys, uploads); prefixed so a log line says what it names. */
export const newId = (prefix: string, now = Date.now()): string => `${prefix}_${next(now).toLowerCase()}`;
