import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectJobs, interleaveByImage, parseCsv, promptSlugs, readPromptsFile, slug } from './jobs.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'reshoot-jobs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = { model: 'gpt-image-2-image-to-image', prompts: [] as string[], aspectRatios: [] as string[] };

describe('batch jobs', () => {
  it('parses RFC 4180 CSV', () => {
    expect(parseCsv('image,prompt\r\na.png,"on slate, ""moody"""\nb.png,"two\nlines"\n\n')).toEqual([
      ['image', 'prompt'],
      ['a.png', 'on slate, "moody"'],
      ['b.png', 'two\nlines'],
    ]);
  });

  it('makes readable slugs', () => {
    expect(slug('Dark slate, moody rim-light!')).toBe('dark-slate-moody-rim-light');
    expect(slug('Café crème on a very long marble counter with morning light', 20)).toBe('cafe-creme-on-a-very');
  });

  it('names prompts that begin alike by the words where they part', () => {
    const shared = 'dark slate counter, moody rim light from the left';
    const names = promptSlugs([`${shared}, close crop`, `${shared}, wide crop`, 'cafe counter, morning', `${shared}, close crop`]);
    expect([...names.values()]).toEqual(['dark-slate-close-crop', 'dark-slate-wide-crop', 'cafe-counter-morning']);
    // one prompt that is the start of another keeps its own slug
    expect(promptSlugs([shared, `${shared}, wide crop`]).get(shared)).toBe(slug(shared));
    // the names depend on the set of prompts, not their order
    expect(promptSlugs([`${shared}, wide crop`, `${shared}, close crop`]).get(`${shared}, close crop`)).toBe('dark-slate-close-crop');
  });

  it('a route and a lock mode make other items (own keys, the route in the name); a bad lock is refused per item', () => {
    writeFileSync(path.join(dir, 'a.png'), 'x');
    const plain = collectJobs(dir, { ...opts, prompts: ['slate'], aspectRatios: ['1:1'] });
    const routed = collectJobs(dir, { ...opts, prompts: ['slate'], aspectRatios: ['1:1'], route: 'hiapi', lock: 'blend' });
    expect(routed[0]!.key).not.toBe(plain[0]!.key);
    expect(routed[0]!.out).toMatch(/^a--slate-[0-9a-f]{4}--1x1-1k--hiapi\.png$/);
    expect(routed[0]!.input?.lock).toBe('blend');
    expect(routed[0]!.flags.lock).toBe('blend');
    // the default route names no engine: the name stays the plain one
    expect(collectJobs(dir, { ...opts, prompts: ['slate'], aspectRatios: ['1:1'], route: 'default' })[0]!.out).toBe(plain[0]!.out);
    expect(collectJobs(dir, { ...opts, prompts: ['slate'], aspectRatios: ['1:1'], lock: 'tight' })[0]!.invalid).toContain('input.lock: must be one of strict, blend, off');
  });

  it('crosses folder images × prompts × ratios with stable keys and names', () => {
    for (const f of ['b.png', 'a.jpg', 'notes.txt', '.hidden.png']) writeFileSync(path.join(dir, f), 'x');
    const items = collectJobs(dir, { ...opts, prompts: ['slate', 'linen'], aspectRatios: ['1:1', '16:9'] });
    expect(items).toHaveLength(8);
    expect(items[0]!.out).toMatch(/^a--slate-[0-9a-f]{4}--1x1-1k\.png$/);
    expect(new Set(items.map((i) => i.key)).size).toBe(8);
    expect(new Set(items.map((i) => i.out)).size).toBe(8);
    // the same input gives the same keys and names, whatever the working directory
    const again = collectJobs(path.relative(process.cwd(), dir), { ...opts, prompts: ['slate', 'linen'], aspectRatios: ['1:1', '16:9'] });
    expect(again.map((i) => [i.key, i.out])).toEqual(items.map((i) => [i.key, i.out]));
  });

  it("reads CSV and JSONL manifests; a row's own prompt and ratio win; bad combinations are marked", () => {
    writeFileSync(path.join(dir, 'm.csv'), 'image,prompt,aspect_ratio,resolution,name\nimg/a.png,,,,hero\nimg/b.png,on linen,4:5,2K,\nimg/c.png,,auto,2K,\n');
    const items = collectJobs(path.join(dir, 'm.csv'), { ...opts, prompts: ['slate'], aspectRatios: ['1:1', '3:2'] });
    expect(items.map((i) => [i.name, i.prompt, i.aspectRatio, i.resolution])).toEqual([
      ['hero', 'slate', '1:1', undefined],
      ['hero', 'slate', '3:2', undefined],
      ['b', 'on linen', '4:5', '2K'],
      ['c', 'slate', 'auto', '2K'],
    ]);
    expect(items[0]!.image).toBe(path.join(dir, 'img/a.png'));
    expect(items[2]!.out).toMatch(/^b--on-linen-[0-9a-f]{4}--4x5-2k\.png$/);
    expect(items[3]!.invalid).toMatch(/auto is only allowed with resolution 1K/);

    writeFileSync(path.join(dir, 'm.jsonl'), '{"image":"x.png","prompt":"p1"}\n\n{"image":"https://example.com/y.jpg","aspect_ratio":"9:16","prompt":"p2"}\n');
    const j = collectJobs(path.join(dir, 'm.jsonl'), opts);
    expect(j.map((i) => i.image)).toEqual([path.join(dir, 'x.png'), 'https://example.com/y.jpg']);
    expect(j[1]!.out).toMatch(/^y--p2-[0-9a-f]{4}--9x16-1k\.png$/);
  });

  it('refuses rows without a prompt and manifests without an image column', () => {
    writeFileSync(path.join(dir, 'a.png'), 'x');
    expect(() => collectJobs(dir, opts)).toThrow(/no prompt/);
    writeFileSync(path.join(dir, 'bad.csv'), 'file,prompt\na.png,x\n');
    expect(() => collectJobs(path.join(dir, 'bad.csv'), opts)).toThrow(/"image" column/);
    expect(() => collectJobs(path.join(dir, 'missing'), opts)).toThrow(/no such folder or manifest/);
  });

  it('reads a prompts file', () => {
    writeFileSync(path.join(dir, 'p.txt'), '# moods\ndark slate\n\n  cafe counter  \n');
    expect(readPromptsFile(path.join(dir, 'p.txt'))).toEqual(['dark slate', 'cafe counter']);
  });
});

describe('run order', () => {
  it('takes one item per image in turn', () => {
    const item = (image: string, n: number) => ({ image, key: `${image}${n}` }) as never;
    const order = interleaveByImage([item('a', 1), item('a', 2), item('a', 3), item('b', 1), item('c', 1), item('c', 2)]);
    expect(order.map((i: { key: string }) => i.key)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });
});
