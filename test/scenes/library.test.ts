import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderScenePhoto } from '../fixtures/scenes.js';
import { matchSceneTag } from '../../src/plan/scene-tags.js';
import { SceneLibraryError, THUMB_SIDE, loadSceneLibrary, thumbnailKey } from '../../src/scenes/library.js';

const LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };
let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-scenes-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const write = (name: string, data: string | Buffer) => fs.writeFile(path.join(dir, name), data);
const sidecar = (o: unknown) => JSON.stringify(o);

async function problemsOf(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SceneLibraryError);
  return (err as SceneLibraryError).problems;
}

describe('loadSceneLibrary', () => {
  it('reads each photo with its sidecar: id, title, tags, size after EXIF orientation, content hash, thumbnail', async () => {
    const room = await renderScenePhoto('room', 640, 480);
    await write('marble-table.png', room.png);
    await write('marble-table.json', sidecar({ tags: ['marble table', 'my marble'], title: 'The marble table', placement: { y: 0.7 } }));
    // a portrait JPEG stored landscape with EXIF orientation 6 (rotate 90°): it is 300 wide, 400 high as seen
    const shelf = await sharp((await renderScenePhoto('landscape', 400, 300)).png).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    await write('oak_shelf.jpg', shelf);
    await write('oak_shelf.json', sidecar({ tags: ['oak shelf'] }));
    await write('notes.txt', 'not a scene');

    const { library, skipped } = await loadSceneLibrary(dir, LIMITS);
    expect(skipped).toEqual([]);
    expect(library.scenes.map((s) => s.id)).toEqual(['marble-table', 'oak_shelf']);
    const [marble, oak] = library.scenes;
    expect(marble).toMatchObject({ title: 'The marble table', tags: ['marble table', 'my marble'], width: 640, height: 480, format: 'png', placement: { y: 0.7 } });
    expect(marble!.sha256).toBe(createHash('sha256').update(room.png).digest('hex'));
    expect(marble!.file).toBe(path.join(dir, 'marble-table.png'));
    expect(oak).toMatchObject({ title: 'oak shelf', width: 300, height: 400, format: 'jpeg' });
    const thumb = await sharp(oak!.thumbnail).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['jpeg', 240, THUMB_SIDE]);
    expect(library.byHash(marble!.sha256)).toBe(marble);
    expect(library.byId('oak_shelf')).toBe(oak);
    expect(thumbnailKey(marble!)).toBe(`scenes/${marble!.sha256.slice(0, 32)}.jpg`);
    // the tags go to the planner's matcher as data
    expect(matchSceneTag('a can on my oak shelf', library.tagged)?.id).toBe('oak_shelf');
  });

  it('skips a photo without a sidecar and says so', async () => {
    await write('spare.png', (await renderScenePhoto('room', 200, 150)).png);
    const { library, skipped } = await loadSceneLibrary(dir, LIMITS);
    expect(library.scenes).toEqual([]);
    expect(skipped).toEqual(['spare.png']);
  });

  it('refuses a bad sidecar, naming the file and the field', async () => {
    const png = (await renderScenePhoto('room', 200, 150)).png;
    await write('a.png', png);
    await write('a.json', sidecar({ tags: [] }));
    await write('b.png', png);
    await write('b.json', sidecar({ tags: ['ok'], surface: 'marble' }));
    await write('c.png', png);
    await write('c.json', '{ "tags": ["x" ');
    await write('d.png', png);
    await write('d.json', sidecar({ tags: ['!!!'] }));
    await write('e.png', png);
    await write('e.json', sidecar({ tags: ['fine'], placement: { y: 1.5 } }));
    const problems = await problemsOf(loadSceneLibrary(dir, LIMITS));
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^a\.json: tags: must list at least one tag/);
    expect(problems[1]).toMatch(/^b\.json: .*surface/);
    expect(problems[2]).toMatch(/^c\.json: not JSON/);
    expect(problems[3]).toMatch(/^d\.json: tags\.0: must have a word of letters or digits/);
    expect(problems[4]).toMatch(/^e\.json: placement\.y: /);
  });

  it('refuses an undecodable or oversized photo and a sidecar without its photo', async () => {
    const png = (await renderScenePhoto('room', 640, 480)).png;
    await write('broken.jpg', Buffer.from('this is not an image at all'));
    await write('broken.json', sidecar({ tags: ['broken'] }));
    await write('truncated.png', png.subarray(0, Math.floor(png.length / 2)));
    await write('truncated.json', sidecar({ tags: ['half'] }));
    await write('huge.png', png);
    await write('huge.json', sidecar({ tags: ['huge'] }));
    await write('orphan.json', sidecar({ tags: ['orphan'] }));
    const problems = await problemsOf(loadSceneLibrary(dir, { maxBytes: png.length - 1, maxPixels: 50_000_000 }));
    expect(problems.find((p) => p.startsWith('orphan.json'))).toMatch(/sidecar without its photo/);
    expect(problems.find((p) => p.startsWith('broken.jpg'))).toMatch(/not a decodable image|unsupported image format/);
    expect(problems.find((p) => p.startsWith('truncated.png'))).toMatch(/could not be decoded/);
    expect(problems.find((p) => p.startsWith('huge.png'))).toMatch(/over the \d+ byte upload limit/);
    expect(problems).toHaveLength(4);
  });

  it('refuses a tag two scenes share (in any spelling) and two photos of one name', async () => {
    const png = (await renderScenePhoto('room', 200, 150)).png;
    await write('one.png', png);
    await write('one.json', sidecar({ tags: ['Marble Table'] }));
    await write('two.png', png);
    await write('two.json', sidecar({ tags: ['marble-table'] }));
    await write('three.png', png);
    await write('three.webp', await sharp(png).webp().toBuffer());
    await write('three.json', sidecar({ tags: ['three'] }));
    const problems = await problemsOf(loadSceneLibrary(dir, LIMITS));
    expect(problems.some((p) => /^three\.webp: three\.png has the same name/.test(p))).toBe(true);
    expect(problems.some((p) => /^two\.json: the tag "marble-table" is also one's/.test(p))).toBe(true);
  });

  it('names a folder that cannot be read', async () => {
    const problems = await problemsOf(loadSceneLibrary(path.join(dir, 'missing'), LIMITS));
    expect(problems).toEqual(['the folder cannot be read (ENOENT)']);
  });
});
