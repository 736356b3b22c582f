import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { PlacementSchema } from '../contract/scene.js';
import { ImageDecodeError, decodeImage, encodeImage, probeImage, resize } from '../engine/codec.js';
import { tagWords, type TaggedScene } from '../plan/scene-tags.js';

/**
 * The operator's scene library (RESHOOT_SCENES_DIR): photographs of their own sets — their marble
 * table, their shelf — each beside a sidecar `<name>.json` of tags. A prompt that names a tag
 * renders into that photo through the scene-photo recipe (src/plan/scene-tags.ts decides which).
 *
 * The folder is read once, when the process starts, by every process that serves the API or renders:
 * a photo that is not a JPEG, PNG or WebP under the upload limits, a sidecar that does not parse, a
 * sidecar without its photo, or a tag two scenes share stops the start with one error naming each
 * file. A photo without a sidecar is not part of the library; it is reported in `skipped` (the
 * server logs it) and otherwise left alone.
 */

/** A tag: words the prompt tokenizer can read (at least one letter or digit), at most 60 characters. */
const TagSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(60, 'must be at most 60 characters')
  .refine((t) => tagWords(t).length > 0, 'must have a word of letters or digits (a-z, 0-9, accents folded)');

/**
 * `<name>.json` beside `<name>.jpg|.jpeg|.png|.webp`. `placement`: where products stand in this photo,
 * as fractions of the photo itself (`y`: the row they stand on, `x`: their centre column, `height`:
 * the tallest product's height); the scene-photo recipe reads them from the photo when left out, and
 * a task's `input.scene.placement` still wins.
 */
export const SceneSidecarSchema = z.strictObject({
  tags: z.array(TagSchema).min(1, 'must list at least one tag').max(32, 'must list at most 32 tags'),
  title: z.string().trim().min(1).max(80).optional(),
  placement: PlacementSchema.omit({ sizes: true }).optional(),
});
export type SceneSidecar = z.infer<typeof SceneSidecarSchema>;

export interface LibraryScene {
  /** the photo's file name without its extension */
  id: string;
  title: string;
  tags: string[];
  /** absolute path of the photo */
  file: string;
  /** sha256 of the photo file, hex */
  sha256: string;
  /** as displayed (EXIF orientation applied) */
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'webp';
  placement?: SceneSidecar['placement'];
  /** a JPEG at most THUMB_SIDE px on its long side */
  thumbnail: Buffer;
}

export interface SceneLibrary {
  dir: string;
  scenes: readonly LibraryScene[];
  /** the tags for the planner's matcher (src/plan/scene-tags.ts) */
  tagged: readonly TaggedScene[];
  byId(id: string): LibraryScene | undefined;
  byHash(sha256: string): LibraryScene | undefined;
}

export interface LoadOptions {
  /** a photo over this many bytes is refused (RESHOOT_UPLOAD_LIMIT_BYTES, as an upload would be) */
  maxBytes: number;
  /** a photo over this many pixels is refused (RESHOOT_MAX_INPUT_PIXELS) */
  maxPixels: number;
}

export class SceneLibraryError extends Error {
  constructor(readonly dir: string, readonly problems: string[]) {
    super(`RESHOOT_SCENES_DIR=${JSON.stringify(dir)}: the scene library cannot be read:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SceneLibraryError';
  }
}

export const THUMB_SIDE = 320;
const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const FORMATS = new Set(['jpeg', 'png', 'webp']);

/** Reads the folder: every problem is collected and thrown together (SceneLibraryError). */
export async function loadSceneLibrary(dir: string, opts: LoadOptions): Promise<{ library: SceneLibrary; skipped: string[] }> {
  const root = path.resolve(dir);
  let names: string[];
  try {
    names = (await fs.readdir(root, { withFileTypes: true })).filter((d) => d.isFile() && !d.name.startsWith('.')).map((d) => d.name).sort();
  } catch (err) {
    throw new SceneLibraryError(dir, [`the folder cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  const problems: string[] = [];
  const skipped: string[] = [];
  const images = names.filter((n) => IMAGE_EXT.test(n));
  const sidecars = new Set(names.filter((n) => n.toLowerCase().endsWith('.json')));
  const stems = new Map<string, string>();
  for (const img of images) {
    const stem = img.replace(IMAGE_EXT, '');
    const other = stems.get(stem);
    if (other) problems.push(`${img}: ${other} has the same name; a sidecar ${stem}.json could be either's`);
    stems.set(stem, img);
  }
  for (const json of sidecars) {
    if (!stems.has(json.slice(0, -'.json'.length))) problems.push(`${json}: a sidecar without its photo (expected ${json.slice(0, -5)}.jpg, .jpeg, .png or .webp beside it)`);
  }

  const scenes: LibraryScene[] = [];
  for (const [stem, img] of stems) {
    if (!sidecars.has(`${stem}.json`)) {
      skipped.push(img);
      continue;
    }
    const where = `${img} (${stem}.json)`;
    if (!ID_RE.test(stem)) {
      problems.push(`${img}: the name must be letters, digits, dots, hyphens or underscores (it is the scene's id in GET /v1/scenes)`);
      continue;
    }
    let sidecar: SceneSidecar;
    try {
      const parsed = SceneSidecarSchema.safeParse(JSON.parse(await fs.readFile(path.join(root, `${stem}.json`), 'utf8')));
      if (!parsed.success) {
        problems.push(...parsed.error.issues.map((i) => `${stem}.json: ${['', ...i.path.map(String)].join('.').slice(1) || 'the sidecar'}: ${i.message}`));
        continue;
      }
      sidecar = parsed.data;
    } catch (err) {
      problems.push(`${stem}.json: not JSON (${(err as Error).message})`);
      continue;
    }
    try {
      scenes.push(await readScene(root, stem, img, sidecar, opts));
    } catch (err) {
      if (!(err instanceof ImageDecodeError || err instanceof SceneImageError)) throw err;
      problems.push(`${where}: ${err.message}`);
    }
  }

  // one tag, one scene: the same words in two sidecars would make a prompt's choice arbitrary
  const owner = new Map<string, string>();
  for (const s of scenes) {
    for (const tag of s.tags) {
      const key = tagWords(tag).join(' ');
      const other = owner.get(key);
      if (other && other !== s.id) problems.push(`${s.id}.json: the tag "${tag}" is also ${other}'s; a prompt naming it could mean either`);
      owner.set(key, s.id);
    }
  }
  if (problems.length > 0) throw new SceneLibraryError(dir, problems);
  return { library: sceneLibrary(root, scenes), skipped };
}

class SceneImageError extends Error {}

async function readScene(root: string, id: string, img: string, sidecar: SceneSidecar, opts: LoadOptions): Promise<LibraryScene> {
  const file = path.join(root, img);
  const bytes = await fs.readFile(file);
  if (bytes.length > opts.maxBytes) {
    throw new SceneImageError(`the photo is ${bytes.length} bytes, over the ${opts.maxBytes} byte upload limit (RESHOOT_UPLOAD_LIMIT_BYTES)`);
  }
  // decoded in full (at a reduced size), as an upload is checked: a truncated file stops the start now, not a render later
  const decoded = await decodeImage(bytes, { maxPixels: opts.maxPixels, workingPixels: 4 * THUMB_SIDE * THUMB_SIDE });
  if (!FORMATS.has(decoded.format)) throw new SceneImageError(`the photo is ${decoded.format}; scene photos are JPEG, PNG or WebP`);
  const head = await probeImage(bytes);
  // the header's size is before EXIF orientation; the decoded copy is after it
  const turned = (head.width > head.height) !== (decoded.image.width > decoded.image.height);
  const width = turned ? head.height : head.width;
  const height = turned ? head.width : head.height;
  const s = THUMB_SIDE / Math.max(decoded.image.width, decoded.image.height);
  const small = s < 1 ? await resize(decoded.image, Math.max(1, Math.round(decoded.image.width * s)), Math.max(1, Math.round(decoded.image.height * s))) : decoded.image;
  return {
    id,
    title: sidecar.title ?? id.replace(/[-_.]+/g, ' '),
    tags: sidecar.tags,
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    width,
    height,
    format: decoded.format as LibraryScene['format'],
    ...(sidecar.placement ? { placement: sidecar.placement } : {}),
    thumbnail: await encodeImage(small, 'jpeg', { quality: 85 }),
  };
}

/** A library over scenes already read (also what an empty or absent folder gives: no scenes). */
export function sceneLibrary(dir: string, scenes: LibraryScene[]): SceneLibrary {
  const ids = new Map(scenes.map((s) => [s.id, s]));
  const hashes = new Map(scenes.map((s) => [s.sha256, s]));
  return {
    dir,
    scenes,
    tagged: scenes.map((s) => ({ id: s.id, tags: s.tags })),
    byId: (id) => ids.get(id),
    byHash: (sha) => hashes.get(sha),
  };
}

/** Where a scene's thumbnail is kept in the blob store (content-addressed: a changed photo gets a new key). */
export const thumbnailKey = (scene: Pick<LibraryScene, 'sha256'>): string => `scenes/${scene.sha256.slice(0, 32)}.jpg`;
