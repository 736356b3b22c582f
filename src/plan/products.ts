/**
 * Product nouns: what a prompt says the product is. The planner reads a leading "a green bottle on …"
 * as the product's own description (its colour is the product's, not the scene's), and the studio's
 * effects ask whether it is a vessel that steam can rise from (engine/scene/opening.ts). Pure: no I/O.
 */

/** What a noun in the prompt says the product is: a vessel with an open top, or something else. */
export type ProductKind = { noun: string; vessel: boolean };

/** Vessels steam or smoke can rise from (one word, as written; plurals too). */
const VESSELS: ReadonlySet<string> = new Set([
  'cup', 'teacup', 'mug', 'dripper', 'pour-over', 'pourover', 'pot', 'teapot', 'coffeepot', 'kettle', 'bowl', 'saucepan',
  'pan', 'skillet', 'wok', 'casserole', 'tumbler', 'espresso', 'cappuccino', 'latte', 'americano', 'tea', 'soup', 'ramen',
  'chemex', 'cezve', 'ladle', 'chalice', 'goblet', 'cauldron', 'brazier', 'censer', 'incense', 'candle',
]);
/** Products that are not a vessel with an open top, whatever their silhouette shows (a boot's shaft is open, a can's lid is not). */
const NOT_VESSELS: ReadonlySet<string> = new Set([
  'bottle', 'can', 'tin', 'box', 'carton', 'jar', 'boot', 'shoe', 'sneaker', 'trainer', 'sandal', 'heel', 'chair', 'stool',
  'table', 'lamp', 'bag', 'handbag', 'backpack', 'watch', 'phone', 'laptop', 'headphones', 'perfume', 'tube', 'bar', 'soap',
  'book', 'plant', 'vase', 'speaker', 'toaster', 'appliance', 'camera', 'hat', 'jacket', 'shirt', 'dress', 'ring', 'necklace',
]);

/** Words that start the scene: a noun after them is a prop ("on a cafe bar", "beside a plant"), not the product. */
const SCENE_START = new Set(['on', 'in', 'at', 'against', 'with', 'beside', 'next', 'near', 'under', 'over', 'behind', 'by', 'onto', 'inside', 'atop', 'among', 'from', 'into']);

/**
 * The product noun of the prompt, where it says whether the product is a vessel ("a cup of coffee",
 * "place this exact leather boot"), or null: the first such noun before the scene starts (the first
 * "on", "in", "with" …). "no"/"without" right before it does not count.
 */
export function productKind(prompt: string): ProductKind | null {
  const tokens = prompt.toLowerCase().match(/[a-z][a-z-]*/g) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (SCENE_START.has(t)) return null;
    const word = productNoun(t);
    if (!word) continue;
    if (i > 0 && (tokens[i - 1] === 'no' || tokens[i - 1] === 'without')) continue;
    return { noun: word, vessel: VESSELS.has(word) };
  }
  return null;
}

/** The product noun a token names ("bottles" → "bottle"), or null. */
export function productNoun(token: string): string | null {
  const t = token.toLowerCase();
  if (VESSELS.has(t) || NOT_VESSELS.has(t)) return t;
  const es = t.endsWith('es') ? t.slice(0, -2) : '';
  if (es && (VESSELS.has(es) || NOT_VESSELS.has(es))) return es;
  const s = t.endsWith('s') && t.length > 3 ? t.slice(0, -1) : '';
  return s && (VESSELS.has(s) || NOT_VESSELS.has(s)) ? s : null;
}
