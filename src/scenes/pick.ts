import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LibrarySceneRequest } from '../engine/types.js';
import { PermanentTaskError } from '../errors.js';
import { matchSceneTag } from '../plan/scene-tags.js';
import type { SceneLibrary } from './library.js';

/** What a base plan (scene_from, a parent turn) says of the library scene it was rendered into. */
interface BaseLibraryScene {
  id: string;
  title: string;
  tag: string;
  sha256: string;
}

function baseLibraryScene(plan: unknown): BaseLibraryScene | undefined {
  const lib = (plan as { scene_photo?: { library?: BaseLibraryScene } } | undefined)?.scene_photo?.library;
  return lib && typeof lib.sha256 === 'string' ? lib : undefined;
}

/**
 * The library scene a task renders into, as a temporary copy of the photo under `tmpDir` (the caller
 * deletes it with the task's other inputs), or undefined.
 *
 * - `scene_from` (reuse): the base plan's scene, the same photo by its content hash.
 * - otherwise the scene whose tag the prompt names (src/plan/scene-tags.ts); a later turn without one
 *   keeps its parent's scene.
 *
 * Each worker reads RESHOOT_SCENES_DIR itself, so every node needs the same folder (or a shared
 * mount); the content hash makes a node with a different photo under the same name fail the task
 * with a reason instead of rendering into another set.
 */
export async function pickLibraryScene(
  library: SceneLibrary | undefined,
  prompt: string,
  base: { plan: unknown; mode: 'reuse' | 'edit' } | undefined,
  tmpDir: string,
): Promise<LibrarySceneRequest | undefined> {
  const inherited = base ? baseLibraryScene(base.plan) : undefined;
  const match = base?.mode === 'reuse' || !library ? null : matchSceneTag(prompt, library.tagged);
  let chosen: { scene: NonNullable<ReturnType<SceneLibrary['byId']>>; tag: string; match?: LibrarySceneRequest['match'] } | undefined;
  if (match) {
    chosen = { scene: library!.byId(match.id)!, tag: match.tag, match: { text: match.text, start: match.start, end: match.end } };
  } else if (inherited) {
    const scene = library?.byHash(inherited.sha256);
    if (!scene) {
      throw new PermanentTaskError(
        `the scene library's photo "${inherited.id}" (sha256 ${inherited.sha256.slice(0, 12)}…) this task builds on is not in this worker's RESHOOT_SCENES_DIR`,
      );
    }
    chosen = { scene, tag: inherited.tag };
  }
  if (!chosen) return undefined;
  const { scene } = chosen;
  const bytes = await fs.readFile(scene.file).catch((err: unknown) => {
    throw new PermanentTaskError(`the scene library's photo "${scene.id}" cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'TASK_FAILED', { cause: err });
  });
  // the photo the task records is the photo it renders: a file changed since the library was read is refused
  if (createHash('sha256').update(bytes).digest('hex') !== scene.sha256) {
    throw new PermanentTaskError(`the scene library's photo "${scene.id}" changed on disk since this worker started; restart it to read the library again`);
  }
  await fs.mkdir(tmpDir, { recursive: true });
  const file = path.join(tmpDir, `scene-${Date.now()}-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(file, bytes);
  return {
    path: file,
    id: scene.id,
    title: scene.title,
    tag: chosen.tag,
    sha256: scene.sha256,
    ...(chosen.match ? { match: chosen.match } : {}),
    ...(scene.placement ? { placement: scene.placement } : {}),
  };
}
