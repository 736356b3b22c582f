import { AppError } from '../errors.js';

/** Deeper than any body the contract describes (a create body is 4 levels; `input.scene` adds 3). */
export const MAX_JSON_DEPTH = 32;

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in a JSON text, up to `limit` + 1: one pass over the
 * bytes, strings skipped, stopping as soon as the limit is passed. It runs before JSON.parse, so a
 * body of a million nested brackets costs microseconds instead of holding the event loop.
 */
export function jsonDepthExceeds(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/**
 * A JSON request body: UTF-8 only (the charset parameter may say utf-8 or nothing; JSON on the wire
 * is UTF-8, and reading UTF-16 as UTF-8 would validate something other than what was sent), nested at
 * most MAX_JSON_DEPTH deep. An empty body is `undefined`.
 */
export function parseJsonBody(body: Buffer, contentType: string | undefined): unknown {
  const charset = contentType === undefined ? undefined : /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type: charset ${charset} is not accepted; send UTF-8 JSON`);
  }
  if (body.length === 0) return undefined;
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
    throw new AppError('INVALID_REQUEST', `body: nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError('INVALID_REQUEST', 'body: not valid JSON');
  }
}
