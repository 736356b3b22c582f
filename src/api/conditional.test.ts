import { describe, expect, it } from 'vitest';
import type { BlobStat } from '../store/blobs/blob-store.js';
import { notModified, preconditionFailed, requestedRange } from './conditional.js';

const mtimeMs = Date.parse('2026-03-01T10:00:00.250Z');
const weak: BlobStat = { size: 1000, mtimeMs, etag: 'W/"3e8-19c"', contentType: 'image/png' };
const strong: BlobStat = { ...weak, etag: '"5eb63bbbe01eeed093cb22bb8f5acdc3"' };
const at = (iso: string) => new Date(iso).toUTCString();

describe('conditional GET', () => {
  it('304 for a matching If-None-Match (weak comparison, lists and *) and not for another tag', () => {
    expect(notModified({ 'if-none-match': weak.etag }, weak)).toBe(true);
    expect(notModified({ 'if-none-match': '"3e8-19c"' }, weak)).toBe(true);
    expect(notModified({ 'if-none-match': `"other", ${strong.etag}` }, strong)).toBe(true);
    expect(notModified({ 'if-none-match': '*' }, strong)).toBe(true);
    expect(notModified({ 'if-none-match': '"other"' }, strong)).toBe(false);
  });

  it('If-Modified-Since counts whole seconds and is ignored beside If-None-Match', () => {
    expect(notModified({ 'if-modified-since': at('2026-03-01T10:00:00Z') }, weak)).toBe(true);
    expect(notModified({ 'if-modified-since': at('2026-03-01T09:59:59Z') }, weak)).toBe(false);
    expect(notModified({ 'if-modified-since': 'not a date' }, weak)).toBe(false);
    expect(notModified({ 'if-none-match': '"other"', 'if-modified-since': at('2026-03-02T00:00:00Z') }, weak)).toBe(false);
  });

  it('412 when If-Match names another tag or a weak one, or the file changed after If-Unmodified-Since', () => {
    expect(preconditionFailed({ 'if-match': strong.etag }, strong)).toBe(false);
    expect(preconditionFailed({ 'if-match': '*' }, weak)).toBe(false);
    expect(preconditionFailed({ 'if-match': '"other"' }, strong)).toBe(true);
    expect(preconditionFailed({ 'if-match': weak.etag }, weak)).toBe(true);
    expect(preconditionFailed({ 'if-unmodified-since': at('2026-03-01T09:00:00Z') }, weak)).toBe(true);
    expect(preconditionFailed({ 'if-unmodified-since': at('2026-03-01T10:00:00Z') }, weak)).toBe(false);
    expect(preconditionFailed({}, weak)).toBe(false);
  });
});

describe('ranges', () => {
  it('one range: first-last, open-ended, suffix, clipped to the size', () => {
    expect(requestedRange({ range: 'bytes=0-99' }, weak)).toEqual({ start: 0, end: 99 });
    expect(requestedRange({ range: 'bytes=900-' }, weak)).toEqual({ start: 900, end: 999 });
    expect(requestedRange({ range: 'bytes=-100' }, weak)).toEqual({ start: 900, end: 999 });
    expect(requestedRange({ range: 'bytes=-5000' }, weak)).toEqual({ start: 0, end: 999 });
    expect(requestedRange({ range: 'bytes=990-5000' }, weak)).toEqual({ start: 990, end: 999 });
  });

  it('the whole file for no range, another unit, a malformed header or several ranges; 416 when none fits', () => {
    expect(requestedRange({}, weak)).toBeNull();
    expect(requestedRange({ range: 'items=0-5' }, weak)).toBeNull();
    expect(requestedRange({ range: 'bytes=abc' }, weak)).toBeNull();
    expect(requestedRange({ range: 'bytes=0-9,20-29' }, weak)).toBeNull();
    expect(requestedRange({ range: 'bytes=1000-' }, weak)).toBe('unsatisfiable');
    expect(requestedRange({ range: 'bytes=50-10' }, weak)).toBe('unsatisfiable');
    expect(requestedRange({ range: 'bytes=-0' }, weak)).toBe('unsatisfiable');
  });

  it('If-Range: the range only while the tag or date still holds', () => {
    expect(requestedRange({ range: 'bytes=0-9', 'if-range': strong.etag }, strong)).toEqual({ start: 0, end: 9 });
    expect(requestedRange({ range: 'bytes=0-9', 'if-range': '"changed"' }, strong)).toBeNull();
    expect(requestedRange({ range: 'bytes=0-9', 'if-range': at('2026-03-01T10:00:00Z') }, weak)).toEqual({ start: 0, end: 9 });
    expect(requestedRange({ range: 'bytes=0-9', 'if-range': at('2026-03-01T09:00:00Z') }, weak)).toBeNull();
  });
});
