/**
 * Reference roles named in a prompt: "place the product from image 1 on the table in image 2",
 * "in the style of the third image", "use the second image as the background". Pure TypeScript.
 */

export type Role = 'product' | 'scene' | 'style';

const ORDINALS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, '1st': 1, '2nd': 2, '3rd': 3, '4th': 4, '5th': 5,
  one: 1, two: 2, three: 3, four: 4, five: 5, last: -1,
};
const NOUN = '(?:image|images|photo|photos|picture|pictures|pic|reference|references|ref|shot|upload|input|img)';
const NUM = '(\\d|one|two|three|four|five)';
const ORD = '(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|last)';
/** "image 2", "image #2", "the second image", "the 2nd photo", "the last one" */
const MENTION = new RegExp(`\\b${NOUN}\\s*(?:no\\.?|number|#)?\\s*${NUM}\\b|\\b${ORD}\\s+(?:${NOUN}|one)\\b`, 'g');

const STYLE_BEFORE = /\b(?:style|look|mood|palette|colou?rs?|grading|grade|tones?|aesthetic|vibe|feel|lighting|light)\s+(?:of|from|like|in|as)\s+(?:the\s+)?$|\b(?:like|styled like|inspired by|matching|match)\s+(?:the\s+)?$/;
const STYLE_AFTER = /^\s*(?:'s|s)?\s*(?:style|look|mood|palette|colou?rs?|grading|aesthetic|vibe)\b|^\s*as\s+(?:a\s+|the\s+)?(?:style|look|mood|colou?r)\b|^\s*for\s+(?:the\s+)?(?:style|look|mood|palette|colou?rs?|light|lighting)\b/;
const SCENE_AFTER = /^\s*as\s+(?:a\s+|the\s+)?(?:background|backdrop|scene|setting|backplate|environment|location|room)\b/;
const SCENE_BEFORE = /\b(?:on|onto|into|in|inside|at|against|within)\s+(?:the\s+|a\s+)?(?:[a-z]+\s+){0,3}(?:in|from|of|shown in)\s+(?:the\s+)?$|\b(?:into|in|onto|on)\s+(?:the\s+)?$|\b(?:background|backdrop|scene|setting|room|table|counter|surface)\s+(?:from|in|of)\s+(?:the\s+)?$/;
const PRODUCT_BEFORE = /\b(?:product|products|item|items|object|bottle|jar|cup|mug|can|box|dripper|vase|glass|packshot|subject)s?\s+(?:from|in|of|shown in)\s+(?:the\s+)?$|\b(?:place|put|take|cut out|use|add|combine)\s+(?:the\s+)?$/;
const PRODUCT_AFTER = /^\s*(?:'s|s)?\s*(?:product|item|object|bottle|jar|cup|mug|can|box)\b|^\s*as\s+(?:a\s+|the\s+)?(?:product|subject|hero)\b/;

/**
 * Roles the prompt gives references (1-based mentions, returned 0-based in an array of `count`;
 * `undefined` where the prompt says nothing about that reference).
 */
export function rolesFromPrompt(prompt: string, count: number): Array<Role | undefined> {
  const text = prompt.toLowerCase().replace(/[’`]/g, "'");
  const out: Array<Role | undefined> = Array.from({ length: count }, () => undefined);
  for (const m of text.matchAll(MENTION)) {
    const word = m[1] ?? m[2]!;
    let n = /^\d$/.test(word) ? Number(word) : ORDINALS[word]!;
    if (n === -1) n = count;
    if (n < 1 || n > count) continue;
    const before = text.slice(Math.max(0, m.index - 48), m.index);
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 40);
    let role: Role | undefined;
    if (STYLE_BEFORE.test(before) || STYLE_AFTER.test(after)) role = 'style';
    else if (SCENE_AFTER.test(after)) role = 'scene';
    else if (PRODUCT_BEFORE.test(before) || PRODUCT_AFTER.test(after)) role = 'product';
    else if (SCENE_BEFORE.test(before)) role = 'scene';
    if (role && out[n - 1] === undefined) out[n - 1] = role;
  }
  return out;
}
