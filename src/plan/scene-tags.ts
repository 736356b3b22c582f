import { tokenize, type UnderstoodWord } from './parse.js';

/**
 * The operator's scene library in a prompt: which scene's tag the prompt names. Pure data in, data
 * out — the library itself (files, hashes) stays with the server; the planner is handed the tags.
 *
 * A tag is matched as whole words, case- and accent-insensitive, its words in order with only
 * spaces or hyphens between them (punctuation breaks a tag: "marble, table" is not "marble table").
 * The longest tag wins (most words, then most letters); between tags of the same length, the one
 * named first in the prompt.
 */

export interface TaggedScene {
  id: string;
  tags: readonly string[];
}

export interface SceneTagMatch {
  /** the scene whose tag the prompt names */
  id: string;
  /** the tag as the library spells it */
  tag: string;
  /** the words in the prompt that named it, and where they stand */
  text: string;
  start: number;
  end: number;
}

/** A tag's words as the prompt tokenizer reads them ("Marble-Table" → marble, table); empty when it has none. */
export function tagWords(tag: string): string[] {
  return tokenize(tag).map((t) => t.text);
}

/** The scene whose tag the prompt names (the longest tag, then the first named), or null. */
export function matchSceneTag(prompt: string, scenes: readonly TaggedScene[]): SceneTagMatch | null {
  const tokens = tokenize(prompt);
  let best: (SceneTagMatch & { words: number }) | null = null;
  for (const scene of scenes) {
    for (const tag of scene.tags) {
      const words = tagWords(tag);
      if (words.length === 0) continue;
      for (let i = 0; i + words.length <= tokens.length; i++) {
        let hit = true;
        for (let k = 0; k < words.length && hit; k++) {
          const t = tokens[i + k]!;
          hit = t.text === words[k] && (k === 0 || (!t.breakBefore && /^[\s-]+$/.test(prompt.slice(tokens[i + k - 1]!.end, t.start))));
        }
        if (!hit) continue;
        const start = tokens[i]!.start;
        const end = tokens[i + words.length - 1]!.end;
        const better = !best || words.length > best.words || (words.length === best.words && (end - start > best.end - best.start || (end - start === best.end - best.start && start < best.start)));
        if (better) best = { id: scene.id, tag, text: prompt.slice(start, end), start, end, words: words.length };
        break;
      }
    }
  }
  if (!best) return null;
  const { words: _words, ...match } = best;
  return match;
}

/**
 * The plan's words once a library scene is used: the tag's words are understood as the scene
 * (`fields: ['scene_photo']`), in place of what the vocabulary read into them ("marble" as a
 * surface: the photo is the set), and no longer unused.
 */
export function creditSceneTag(
  words: { understood: UnderstoodWord[]; unused: string[] },
  match: Pick<SceneTagMatch, 'text' | 'start' | 'end'>,
): { understood: UnderstoodWord[]; unused: string[] } {
  const inTag = new Set(tagWords(match.text));
  const understood = words.understood.filter((w) => w.end <= match.start || w.start >= match.end);
  understood.push({ text: match.text, start: match.start, end: match.end, fields: ['scene_photo'] });
  understood.sort((a, b) => a.start - b.start);
  return { understood, unused: words.unused.filter((w) => !inTag.has(w)) };
}
