import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderScenePhoto } from '../fixtures/scenes.js';
import { coverPlacement } from '../../src/engine/pipeline.js';
import { PermanentTaskError } from '../../src/errors.js';
import { loadSceneLibrary, type SceneLibrary } from '../../src/scenes/library.js';
import { pickLibraryScene } from '../../src/scenes/pick.js';

const LIMITS = { maxBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };
let dir: string;
let tmp: string;
let library: SceneLibrary;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-scenes-'));
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'reshoot-tmp-'));
  await fs.writeFile(path.join(dir, 'table.png'), (await renderScenePhoto('room', 200, 150)).png);
  await fs.writeFile(path.join(dir, 'table.json'), JSON.stringify({ tags: ['oak table'], placement: { y: 0.7 } }));
  await fs.writeFile(path.join(dir, 'field.png'), (await renderScenePhoto('landscape', 200, 150)).png);
  await fs.writeFile(path.join(dir, 'field.json'), JSON.stringify({ tags: ['field'] }));
  library = (await loadSceneLibrary(dir, LIMITS)).library;
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rm(tmp, { recursive: true, force: true });
});

const planIn = (scene: SceneLibrary['scenes'][number], tag: string) => ({ scene_photo: { surface_y: 0.7, library: { id: scene.id, title: scene.title, tag, sha256: scene.sha256 } } });

describe('pickLibraryScene', () => {
  it('copies the photo of the scene the prompt names, with how it was named and its hints', async () => {
    const picked = await pickLibraryScene(library, 'a can on the OAK TABLE', undefined, tmp);
    const table = library.byId('table')!;
    expect(picked).toMatchObject({ id: 'table', title: 'table', tag: 'oak table', sha256: table.sha256, match: { text: 'OAK TABLE', start: 13, end: 22 }, placement: { y: 0.7 } });
    expect(path.dirname(picked!.path)).toBe(tmp);
    expect((await fs.readFile(picked!.path)).equals(await fs.readFile(table.file))).toBe(true);
    expect(await pickLibraryScene(library, 'a can on slate', undefined, tmp)).toBeUndefined();
    expect(await pickLibraryScene(undefined, 'a can on the oak table', undefined, tmp)).toBeUndefined();
  });

  it('keeps the base plan\'s scene: scene_from always, a later turn unless it names another', async () => {
    const table = library.byId('table')!;
    const base = planIn(table, 'oak table');
    expect(await pickLibraryScene(library, 'in the field', { plan: base, mode: 'reuse' }, tmp)).toMatchObject({ id: 'table', tag: 'oak table' });
    const kept = await pickLibraryScene(library, 'make the light warmer', { plan: base, mode: 'edit' }, tmp);
    expect(kept).toMatchObject({ id: 'table', sha256: table.sha256 });
    expect(kept!.match).toBeUndefined();
    expect(await pickLibraryScene(library, 'now in the field', { plan: base, mode: 'edit' }, tmp)).toMatchObject({ id: 'field', match: { text: 'field' } });
  });

  it('fails the task with a reason when the base plan\'s photo is not in this worker\'s library', async () => {
    const gone = { ...library.byId('table')!, sha256: 'ab'.repeat(32) };
    const err = await pickLibraryScene(library, 'again', { plan: planIn(gone, 'oak table'), mode: 'reuse' }, tmp).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentTaskError);
    expect((err as Error).message).toBe('the scene library\'s photo "table" (sha256 abababababab…) this task builds on is not in this worker\'s RESHOOT_SCENES_DIR');
    await expect(pickLibraryScene(undefined, 'again', { plan: planIn(gone, 'oak table'), mode: 'edit' }, tmp)).rejects.toBeInstanceOf(PermanentTaskError);
  });

  it('refuses a photo changed on disk since the library was read', async () => {
    await fs.writeFile(path.join(dir, 'table.png'), (await renderScenePhoto('room', 200, 150, 9)).png);
    await expect(pickLibraryScene(library, 'on the oak table', undefined, tmp)).rejects.toThrow('the scene library\'s photo "table" changed on disk since this worker started');
  });
});

describe('coverPlacement', () => {
  it('maps fractions of the photo onto the output it is cover-fitted to', () => {
    // same ratio: unchanged
    expect(coverPlacement({ x: 0.3, y: 0.7, height: 0.4 }, { width: 640, height: 480 }, { width: 1024, height: 768 })).toEqual({ x: 0.3, y: 0.7, height: 0.4 });
    // a 4:3 photo in a 1:1 frame loses an eighth of its width on each side
    expect(coverPlacement({ x: 0.125, y: 0.7 }, { width: 640, height: 480 }, { width: 768, height: 768 })).toEqual({ x: 0, y: 0.7 });
    expect(coverPlacement({ x: 0.25 }, { width: 640, height: 480 }, { width: 768, height: 768 }).x).toBeCloseTo(1 / 6, 3);
    expect(coverPlacement({ x: 0.5 }, { width: 640, height: 480 }, { width: 768, height: 768 })).toEqual({ x: 0.5 });
    // a 4:3 photo in a 16:9 frame loses 12.5% of its height top and bottom
    const wide = coverPlacement({ y: 0.75, height: 0.3 }, { width: 640, height: 480 }, { width: 1024, height: 576 });
    expect(wide.y).toBeCloseTo(0.8333, 3);
    expect(wide.height).toBeCloseTo(0.4, 3);
  });
});
