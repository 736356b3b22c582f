import { z } from 'zod';

/**
 * `GET /v1/scenes` (a reshoot extension, docs/contract.md §16): the operator's scene library
 * (RESHOOT_SCENES_DIR), photographs of their own sets. A prompt that names one of a scene's tags
 * places the product into that photo.
 */
export const LibrarySceneSchema = z.object({
  id: z.string().describe('the photo\'s file name without its extension'),
  title: z.string(),
  tags: z.array(z.string()).describe('a prompt naming one of these (whole words, any case) renders into this photo; the longest tag named wins'),
  width: z.int(),
  height: z.int(),
  sha256: z.string().describe('the photo file\'s content hash; a task records it in reshoot.plan.scene_photo.library'),
  thumbnail_url: z.string().describe('a signed link to a JPEG at most 320 px on its long side (no auth header needed)'),
  expireAt: z.int().describe('Unix seconds after which thumbnail_url stops working'),
});
export type LibrarySceneInfo = z.infer<typeof LibrarySceneSchema>;

export const SceneListSchema = z.array(LibrarySceneSchema);
