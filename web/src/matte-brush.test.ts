import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MatteEditor, channelOf, composeRgba, cutoutRect, encodePng, paintSegment, photoTaskFor, referenceUrls, segmentBounds, tintRect, unionRect, withFixedCutout, type Matte } from './matte-brush.js';
import type { Reference } from './state.js';

const matte = (width: number, height: number, fill: number): Matte => ({ width, height, alpha: new Uint8Array(width * height).fill(fill) });
const at = (m: Matte, x: number, y: number) => m.alpha[y * m.width + x]!;
const count = (a: Uint8Array, pred: (v: number) => boolean) => a.reduce((n, v) => n + (pred(v) ? 1 : 0), 0);

describe('paintSegment: stroke rasterisation', () => {
  it('erases a round dot of the brush radius, with an anti-aliased rim, and nothing outside it', () => {
    const m = matte(40, 40, 255);
    const r = paintSegment(m, { x: 20, y: 20 }, { x: 20, y: 20 }, 5, 'erase');
    expect(r).toEqual({ x: 14, y: 14, width: 12, height: 12 });
    expect(at(m, 20, 20)).toBe(0);
    expect(at(m, 17, 20)).toBe(0);
    expect(at(m, 26, 20)).toBe(255);
    expect(at(m, 20, 30)).toBe(255);
    // fully cleared within 4.5 px of the centre (π·4.5² ≈ 64 px), touched within 5.5 (≈ 95 px)
    const cleared = count(m.alpha, (v) => v === 0);
    const touched = count(m.alpha, (v) => v < 255);
    expect(cleared).toBeGreaterThan(55);
    expect(cleared).toBeLessThan(72);
    expect(touched).toBeGreaterThan(85);
    expect(touched).toBeLessThan(105);
  });

  it('covers the whole line between two points (a capsule), not just its ends', () => {
    const m = matte(100, 20, 255);
    paintSegment(m, { x: 10, y: 10 }, { x: 90, y: 10 }, 3, 'erase');
    for (let x = 10; x <= 89; x++) expect(at(m, x, 10), `x=${x}`).toBe(0);
    expect(at(m, 50, 2)).toBe(255);
    expect(at(m, 50, 17)).toBe(255);
    expect(at(m, 96, 10)).toBe(255);
  });

  it('restore raises alpha to product and never lowers it; erase never raises it', () => {
    const m = matte(30, 30, 100);
    paintSegment(m, { x: 15, y: 15 }, { x: 15, y: 15 }, 4, 'restore');
    expect(at(m, 15, 15)).toBe(255);
    expect(at(m, 0, 0)).toBe(100);
    // a rim pixel half covered by restore stays at least what it was
    expect(Math.min(...m.alpha)).toBe(100);
    const e = matte(30, 30, 40);
    paintSegment(e, { x: 15, y: 15 }, { x: 15, y: 15 }, 4, 'erase');
    expect(Math.max(...e.alpha)).toBe(40);
    expect(at(e, 15, 15)).toBe(0);
  });

  it('clips at the edges of the matte and answers null off it', () => {
    const m = matte(10, 10, 255);
    expect(paintSegment(m, { x: 0, y: 0 }, { x: 0, y: 0 }, 3, 'erase')).toEqual({ x: 0, y: 0, width: 4, height: 4 });
    expect(at(m, 0, 0)).toBe(0);
    expect(segmentBounds(m, { x: -50, y: -50 }, { x: -40, y: -40 }, 3)).toBeNull();
    expect(paintSegment(m, { x: 60, y: 5 }, { x: 70, y: 5 }, 2, 'erase')).toBeNull();
  });

  it('unionRect holds both rectangles', () => {
    expect(unionRect(null, null)).toBeNull();
    expect(unionRect({ x: 2, y: 3, width: 4, height: 5 }, null)).toEqual({ x: 2, y: 3, width: 4, height: 5 });
    expect(unionRect({ x: 2, y: 3, width: 4, height: 5 }, { x: 10, y: 0, width: 2, height: 2 })).toEqual({ x: 2, y: 0, width: 10, height: 8 });
  });
});

describe('MatteEditor: strokes, undo, redo, reset', () => {
  it('a stroke is one step: undo brings back exactly the matte before it, redo the one after', () => {
    const start = matte(64, 48, 0);
    for (let i = 0; i < start.alpha.length; i++) start.alpha[i] = (i * 7) % 256;
    const ed = new MatteEditor(start);
    expect(ed.canUndo).toBe(false);
    ed.begin({ x: 10, y: 10 }, 4, 'erase');
    ed.extend({ x: 30, y: 20 }, 4, 'erase');
    ed.extend({ x: 50, y: 10 }, 4, 'erase');
    ed.end();
    const afterFirst = new Uint8Array(ed.alpha);
    ed.begin({ x: 20, y: 40 }, 6, 'restore');
    ed.end();
    const afterSecond = new Uint8Array(ed.alpha);
    expect(ed.edited).toBe(true);
    expect(ed.undo()).not.toBeNull();
    expect(ed.alpha).toEqual(afterFirst);
    ed.undo();
    expect(ed.alpha).toEqual(start.alpha);
    expect(ed.edited).toBe(false);
    expect(ed.undo()).toBeNull();
    ed.redo();
    ed.redo();
    expect(ed.alpha).toEqual(afterSecond);
    expect(ed.canRedo).toBe(false);
  });

  it('a new stroke after undo drops the redo steps; a stroke that changes nothing is no step', () => {
    const ed = new MatteEditor(matte(20, 20, 0));
    ed.begin({ x: 5, y: 5 }, 2, 'restore');
    ed.end();
    ed.undo();
    expect(ed.canRedo).toBe(true);
    ed.begin({ x: 15, y: 15 }, 2, 'erase'); // already background: nothing changes
    ed.end();
    expect(ed.canRedo).toBe(true);
    expect(ed.canUndo).toBe(false);
    ed.begin({ x: 15, y: 15 }, 2, 'restore');
    ed.end();
    expect(ed.canRedo).toBe(false);
    expect(ed.canUndo).toBe(true);
  });

  it('reset goes back to the server\'s matte and can itself be undone', () => {
    const ed = new MatteEditor(matte(20, 20, 255));
    ed.begin({ x: 10, y: 10 }, 5, 'erase');
    ed.end();
    const erased = new Uint8Array(ed.alpha);
    expect(ed.reset()).toEqual({ x: 0, y: 0, width: 20, height: 20 });
    expect(ed.alpha.every((v) => v === 255)).toBe(true);
    expect(ed.reset()).toBeNull();
    ed.undo();
    expect(ed.alpha).toEqual(erased);
  });

  it('keeps at most `limit` steps, each only the area its stroke touched', () => {
    const ed = new MatteEditor(matte(200, 200, 255), 3);
    for (let i = 0; i < 5; i++) {
      ed.begin({ x: 20 + i * 30, y: 100 }, 3, 'erase');
      ed.end();
    }
    let undone = 0;
    while (ed.undo()) undone++;
    expect(undone).toBe(3);
    // the two oldest strokes stay
    expect(ed.alpha[100 * 200 + 20]).toBe(0);
    expect(ed.alpha[100 * 200 + 50]).toBe(0);
    expect(ed.alpha[100 * 200 + 80]).toBe(255);
  });
});

describe('compose and encode the fixed reference', () => {
  it('composeRgba keeps the photo where the matte is product and clears the rest', () => {
    const photo = new Uint8ClampedArray([10, 20, 30, 255, 40, 50, 60, 255, 70, 80, 90, 255]);
    const out = composeRgba(photo, new Uint8Array([255, 128, 0]));
    expect([...out]).toEqual([10, 20, 30, 255, 40, 50, 60, 128, 0, 0, 0, 0]);
  });

  it('encodePng writes exactly the RGBA pixels given, semi-transparent colours included', async () => {
    const w = 37;
    const h = 23;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = (i * 31 + (i >> 7)) % 256;
    const png = await encodePng(rgba, w, h);
    const { data, info } = await sharp(Buffer.from(png)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([w, h, 4]);
    expect(new Uint8Array(data)).toEqual(rgba);
  });

  it('cutoutRect gives the photo under the edited alpha for one rectangle', () => {
    const photo = new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255]);
    const out = new Uint8ClampedArray(2 * 4);
    cutoutRect(photo, new Uint8Array([255, 255, 0, 90]), 2, { x: 0, y: 1, width: 2, height: 1 }, out);
    expect([...out]).toEqual([7, 8, 9, 0, 10, 11, 12, 90]);
  });

  it('channelOf reads a grey matte drawn on a canvas; tintRect shades what is background', () => {
    expect([...channelOf(new Uint8ClampedArray([9, 9, 9, 255, 200, 200, 200, 255]))]).toEqual([9, 200]);
    const out = new Uint8ClampedArray(2 * 4);
    tintRect(new Uint8Array([0, 0, 255, 0]), 2, { x: 0, y: 1, width: 2, height: 1 }, out, 0.5);
    expect(out[3]).toBe(0); // alpha 255: product, no tint
    expect(out[7]).toBe(128); // alpha 0: background, half-strength tint
  });
});

describe('photoTaskFor: where Fix cutout takes the photo from', () => {
  const turns = [
    { taskId: 'a', parentId: null },
    { taskId: 'b', parentId: 'a' },
    { taskId: 'c', parentId: 'b', matteFrom: 'a' },
    { taskId: 'd', parentId: 'c' },
    { taskId: 'e', parentId: 'd', matteFrom: 'a' },
  ];
  it('is the turn itself until a fixed cutout, then the task the fix was painted on', () => {
    expect(photoTaskFor(turns, 'a')).toBe('a');
    expect(photoTaskFor(turns, 'b')).toBe('b');
    expect(photoTaskFor(turns, 'c')).toBe('a');
    expect(photoTaskFor(turns, 'd')).toBe('a');
    expect(photoTaskFor(turns, 'e')).toBe('a');
    expect(photoTaskFor(turns, 'unknown')).toBe('unknown');
  });
});

describe('withFixedCutout: the form takes the fixed reference', () => {
  const ref = (id: string, url: string): Reference => ({ id, name: `${id}.png`, url, preview: url, role: 'auto', status: 'ready', content: `sha256:${id}`, measured: { width: 10, height: 10, box: null } });
  const fixed = { from: ['http://h/files/uploads/a.png'], url: 'http://h/files/uploads/fixed.png', preview: 'blob:fixed', content: 'sha256:fixed' };
  it('replaces the reference the cutout was painted on, and only that one; again replaces it again', () => {
    const refs = [ref('a', fixed.from[0]!), ref('b', 'http://h/files/uploads/b.png')];
    const next = withFixedCutout(refs, fixed);
    expect(next[0]).toMatchObject({ id: 'a', name: 'a.png (cutout fixed)', url: fixed.url, preview: 'blob:fixed', content: 'sha256:fixed', measured: undefined });
    expect(next[1]).toBe(refs[1]);
    const again = withFixedCutout(next, { ...fixed, from: ['http://h/files/tasks/x/0.png', fixed.url], url: 'http://h/files/uploads/fixed2.png' });
    expect(again[0]).toMatchObject({ name: 'a.png (cutout fixed)', url: 'http://h/files/uploads/fixed2.png' });
  });
  it('leaves a form that no longer holds the reference as it is', () => {
    const refs = [ref('b', 'http://h/files/uploads/b.png')];
    expect(withFixedCutout(refs, fixed)).toEqual(refs);
  });
});

describe('referenceUrls: what the form may hold for a turn', () => {
  const req = (url: string) => ({ model: 'm', input: { prompt: 'p', input_urls: [url], aspect_ratio: '1:1' as const, resolution: '1K' as const } });
  it('walks from the turn to its first, each first reference once', () => {
    const turns = [
      { taskId: 'a', parentId: null, request: req('up/a.png') },
      { taskId: 'b', parentId: 'a', request: req('out/a.png') },
      { taskId: 'c', parentId: 'b', request: req('up/fixed.png') },
      { taskId: 'd', parentId: 'c', request: null },
      { taskId: 'e', parentId: 'd', request: req('up/fixed.png') },
    ];
    expect(referenceUrls(turns, 'e')).toEqual(['up/fixed.png', 'out/a.png', 'up/a.png']);
    expect(referenceUrls(turns, 'a')).toEqual(['up/a.png']);
    expect(referenceUrls(turns, 'zz')).toEqual([]);
  });
});
