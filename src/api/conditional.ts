import type { IncomingHttpHeaders } from 'node:http';
import type { BlobStat, ByteRange } from '../store/blobs/blob-store.js';

/**
 * Conditional and range requests for one stored file (RFC 9110 §13 and §14), answered from the blob
 * store's stat so local disk and a bucket behave alike. Behaves as @fastify/send did when the files
 * route served local files with it: weak comparison for If-None-Match, If-Range by tag or date,
 * one range answered with 206, several ranges with the whole file.
 */

/** the entity tags in an If-Match / If-None-Match list, `*` kept as is */
function tags(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter(Boolean);
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** HTTP dates have whole seconds; a file's mtime has milliseconds. */
const seconds = (ms: number) => Math.floor(ms / 1000);

function dateHeader(value: string | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/** 412 when If-Match or If-Unmodified-Since rules the request out. */
export function preconditionFailed(headers: IncomingHttpHeaders, stat: BlobStat): boolean {
  const ifMatch = headers['if-match'];
  if (ifMatch) {
    // strong comparison: a weak tag never matches If-Match
    const list = tags(ifMatch);
    return !list.includes('*') && !(list.includes(stat.etag) && !stat.etag.startsWith('W/'));
  }
  const since = dateHeader(headers['if-unmodified-since']);
  return since !== null && seconds(stat.mtimeMs) > seconds(since);
}

/** 304 when If-None-Match (or, without it, If-Modified-Since) says the client's copy is current. */
export function notModified(headers: IncomingHttpHeaders, stat: BlobStat): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch) {
    const list = tags(ifNoneMatch);
    return list.includes('*') || list.some((t) => opaque(t) === opaque(stat.etag));
  }
  const since = dateHeader(headers['if-modified-since']);
  return since !== null && seconds(stat.mtimeMs) <= seconds(since);
}

/**
 * The one range to answer with 206, null to answer the whole file (no Range, a stale If-Range, a
 * header that is not `bytes=`, or several ranges), or 'unsatisfiable' for 416.
 */
export function requestedRange(headers: IncomingHttpHeaders, stat: BlobStat): ByteRange | null | 'unsatisfiable' {
  const header = headers.range;
  if (!header || !header.startsWith('bytes=')) return null;
  const raw = headers['if-range'];
  const ifRange = Array.isArray(raw) ? raw[0] : raw;
  if (ifRange) {
    const date = ifRange.includes('"') ? null : dateHeader(ifRange);
    const fresh = date === null ? ifRange.trim() === stat.etag : seconds(stat.mtimeMs) <= seconds(date);
    if (!fresh) return null;
  }
  const ranges: ByteRange[] = [];
  for (const spec of header.slice('bytes='.length).split(',')) {
    const m = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(spec);
    if (!m || (m[1] === '' && m[2] === '')) return null; // malformed: ignore the header, as send did
    let start: number;
    let end: number;
    if (m[1] === '') {
      // suffix: the last N bytes
      start = Math.max(0, stat.size - Number(m[2]));
      end = stat.size - 1;
    } else {
      start = Number(m[1]);
      end = m[2] === '' ? stat.size - 1 : Math.min(Number(m[2]), stat.size - 1);
    }
    if (start <= end && start < stat.size) ranges.push({ start, end });
  }
  if (ranges.length === 0) return 'unsatisfiable';
  return ranges.length === 1 ? ranges[0]! : null;
}
