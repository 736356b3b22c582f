import type { LibrarySceneInfo } from '../../src/contract/scenes.js';
import { matchSceneTag } from '../../src/plan/scene-tags.js';

/**
 * The prompt with a scene's tag in it: the tag of the scene the prompt already names (if any) is
 * replaced, else the tag is added at the end.
 */
export function promptWithScene(prompt: string, scene: Pick<LibrarySceneInfo, 'id' | 'tags'>, scenes: ReadonlyArray<Pick<LibrarySceneInfo, 'id' | 'tags'>>): string {
  const tag = scene.tags[0]!;
  const named = matchSceneTag(prompt, scenes);
  if (named?.id === scene.id) return prompt;
  if (named) return prompt.slice(0, named.start) + tag + prompt.slice(named.end);
  const head = prompt.trimEnd();
  return head ? `${head.replace(/[,;]$/, '')}, on the ${tag}` : `on the ${tag}`;
}
