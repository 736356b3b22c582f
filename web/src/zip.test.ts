import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { createZipBuilder } from './zip.js';

describe('the batch zip', () => {
  it('holds every entry byte for byte under its path, stored', async () => {
    const zip = createZipBuilder();
    const a = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 255);
    const b = new TextEncoder().encode('second');
    zip.add('mug/on-slate-1x1.png', a);
    zip.add('dripper/beach-4x5.jpg', b);
    const blob = zip.finish();
    expect(blob.type).toBe('application/zip');
    const bytes = new Uint8Array(await blob.arrayBuffer());
    // stored entries: the archive is the data plus headers, not smaller
    expect(bytes.length).toBeGreaterThan(a.length + b.length);
    const out = unzipSync(bytes);
    expect(Object.keys(out)).toEqual(['mug/on-slate-1x1.png', 'dripper/beach-4x5.jpg']);
    expect(out['mug/on-slate-1x1.png']).toEqual(a);
    expect(new TextDecoder().decode(out['dripper/beach-4x5.jpg'])).toBe('second');
  });

  it('refuses the same name twice', () => {
    const zip = createZipBuilder();
    zip.add('a.png', new Uint8Array([1]));
    expect(() => zip.add('a.png', new Uint8Array([2]))).toThrow('a.png is already in the zip');
  });
});
