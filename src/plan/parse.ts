import { mixHex } from './colors.js';
import { productNoun } from './products.js';
import { WORDS, type Tone } from './presets.js';
import { STOPWORDS, oppositeDirection, vocabulary, type Draft, type Entry, type EntryKind } from './vocabulary.js';

/**
 * Reads a prompt into a draft plan: only what the prompt says, as words. Longest phrase wins at each
 * position; modifiers, colours and tones attach to the phrase that follows them; a negator
 * ("no", "without") undoes the phrase after it and any joined to it by "and"/"or".
 */

export interface Token {
  text: string;
  start: number;
  end: number;
  /** punctuation separates it from the previous token */
  breakBefore: boolean;
  /** a hyphen joins it to the previous token ("pour-over") */
  hyphenated: boolean;
}

export interface UnderstoodWord {
  text: string;
  start: number;
  end: number;
  fields: string[];
}

export interface Reading {
  draft: Draft;
  understood: UnderstoodWord[];
  unused: string[];
  product: string;
  /** a material implied by a furniture noun ("counter" → wood), used when none is named */
  impliedMaterial?: string;
}

interface Match {
  entry: Entry;
  i: number;
  n: number;
  amount: number;
}

const ACCENTS: Record<string, string> = {
  à: 'a', á: 'a', â: 'a', ã: 'a', ä: 'a', å: 'a', ç: 'c', è: 'e', é: 'e', ê: 'e', ë: 'e', ì: 'i', í: 'i', î: 'i', ï: 'i',
  ñ: 'n', ò: 'o', ó: 'o', ô: 'o', õ: 'o', ö: 'o', ù: 'u', ú: 'u', û: 'u', ü: 'u', ý: 'y', ÿ: 'y',
};

export function tokenize(prompt: string): Token[] {
  // One character in, one character out, so offsets still point into the original prompt.
  const text = [...prompt.toLowerCase()].map((c) => (c.length === 1 ? ACCENTS[c] ?? c : ' ')).join('');
  const out: Token[] = [];
  let prevEnd = 0;
  for (const m of text.matchAll(/[a-z0-9]+/g)) {
    const start = m.index;
    const between = text.slice(prevEnd, start);
    out.push({ text: m[0], start, end: start + m[0].length, breakBefore: /[,.;:!?()\n]/.test(between), hyphenated: out.length > 0 && between === '-' });
    prevEnd = start + m[0].length;
  }
  return out;
}

const PRODUCT_VERBS = new Set(['place', 'put', 'set', 'show', 'position', 'photograph', 'shoot', 'display', 'showcase', 'feature', 'present', 'stage', 'render', 'capture', 'style']);
const PRODUCT_SKIP = new Set(['this', 'the', 'my', 'our', 'these', 'that', 'a', 'an', 'exact', 'exactly', 'same', 'original', 'given', 'uploaded', 'provided']);
const PRODUCT_END = new Set(['on', 'onto', 'in', 'inside', 'into', 'at', 'against', 'atop', 'upon', 'over', 'under', 'beside', 'next', 'with', 'by', 'near', 'among', 'amid', 'surrounded', 'standing', 'sitting', 'resting', 'floating', 'lying', 'for', 'as', 'from', 'and', 'under', 'below', 'above', 'behind']);
const LIGHT_WORDS = new Set(['light', 'lighting', 'lit', 'window', 'sun', 'sunlight', 'lamp', 'key', 'glow', 'illuminated', 'illumination', 'sunbeam', 'backlight', 'highlight']);
const SHADOW_WORDS = new Set(['shadow', 'shadows']);
const MODIFIABLE: ReadonlySet<EntryKind> = new Set(['effect', 'shadow', 'reflection', 'blur', 'light']);
const ATTACHABLE: ReadonlySet<EntryKind> = new Set(['surface', 'surface-noun', 'backdrop', 'backdrop-noun', 'environment', 'finish']);
const JOINERS = new Set(['and', 'or', 'nor', 'any', 'a', 'the', 'of']);
const POST_NEGATORS = new Set(['free']);
/** a mood word before a light that sets a temperature ("warm daylight") sets this temperature instead */
const LIGHT_TEMPERATURE_MOODS: Record<string, number> = { warm: WORDS.light.warm.temperature, cool: WORDS.light.cool.temperature };

export function emptyDraft(): Draft {
  return {
    style: undefined as unknown as Draft['style'], mood: [], surface: {}, backdrop: {}, light: {}, shadow: {}, reflection: {},
    effects: {}, framing: {}, palette: { names: [], colors: [] }, grade: {}, placement: {},
  };
}

/** Finds the product clause: "place this exact <white ceramic dripper> on …". Returns token indexes. */
function productClause(tokens: Token[]): { from: number; to: number } | null {
  const verbAt = tokens.findIndex((t, i) => i < 4 && PRODUCT_VERBS.has(t.text));
  if (verbAt < 0) return leadingProduct(tokens);
  let from = verbAt + 1;
  while (from < tokens.length && PRODUCT_SKIP.has(tokens[from]!.text)) from++;
  let to = from;
  while (to < tokens.length && (tokens[to]!.hyphenated || !PRODUCT_END.has(tokens[to]!.text)) && !(to > from && tokens[to]!.breakBefore)) to++;
  if (to === from || to - from > 10) return null;
  return { from: verbAt, to };
}

/**
 * A prompt that opens with the product and no verb: "a green glass bottle on dark slate", "two cups of
 * coffee in a cafe". The words before the scene starts are the product's when they end in a product
 * noun, or name one followed by "of"; their colours are the product's, not the scene's. A noun the
 * vocabulary knows as part of a scene ("table", "lamp", "bar") never makes one. `from` is -1: no verb.
 */
function leadingProduct(tokens: Token[]): { from: number; to: number } | null {
  let to = 0;
  while (to < tokens.length && !PRODUCT_END.has(tokens[to]!.text) && !(to > 0 && tokens[to]!.breakBefore)) to++;
  if (to === 0 || to > 8 || to === tokens.length) return null;
  const { phrases } = vocabulary();
  const names = (i: number) => productNoun(tokens[i]!.text) !== null && !phrases.has(tokens[i]!.text);
  for (let i = 0; i < to; i++) {
    if (names(i) && (i === to - 1 || tokens[i + 1]!.text === 'of')) return { from: -1, to };
  }
  return null;
}

function findMatches(tokens: Token[], skip: (i: number) => boolean): { matches: Match[]; covered: boolean[] } {
  const { phrases, longest } = vocabulary();
  const matches: Match[] = [];
  const covered = tokens.map((_, i) => skip(i));
  for (let i = 0; i < tokens.length; ) {
    if (covered[i]) { i++; continue; }
    let found: Match | null = null;
    for (let n = Math.min(longest, tokens.length - i); n >= 1 && !found; n--) {
      if (tokens.slice(i + 1, i + n).some((t) => t.breakBefore)) continue;
      if (tokens.slice(i, i + n).some((_, k) => covered[i + k])) continue;
      const words = tokens.slice(i, i + n).map((t) => t.text);
      const entry = phrases.get(words.join(' ')) ?? plural(phrases, words);
      if (entry) found = { entry, i, n, amount: 1 };
    }
    if (found) {
      matches.push(found);
      for (let k = 0; k < found.n; k++) covered[i + k] = true;
      i += found.n;
    } else i++;
  }
  return { matches, covered };
}

function plural(phrases: Map<string, Entry>, words: string[]): Entry | undefined {
  const last = words[words.length - 1]!;
  if (last.length < 4 || !last.endsWith('s')) return undefined;
  const stem = last.endsWith('es') && phrases.has([...words.slice(0, -1), last.slice(0, -2)].join(' ')) ? last.slice(0, -2) : last.slice(0, -1);
  return phrases.get([...words.slice(0, -1), stem].join(' '));
}

/** Reads the prompt. Pure: no I/O, safe to run in a browser. */
export function readPrompt(prompt: string): Reading {
  const tokens = tokenize(prompt);
  const clause = productClause(tokens);
  const inClause = (i: number) => clause !== null && i >= clause.from && i < clause.to;
  const { matches, covered } = findMatches(tokens, inClause);
  const draft = emptyDraft();
  const understood: UnderstoodWord[] = [];
  let impliedMaterial: string | undefined;

  const gapBetween = (a: Match, b: Match) => b.i - (a.i + a.n);
  const gapWords = (a: Match, b: Match) => tokens.slice(a.i + a.n, b.i).map((t) => t.text);
  // context words count only within the same clause (punctuation ends it)
  const near = (m: Match, words: ReadonlySet<string>, before: number, after: number) => {
    for (let j = m.i - 1, k = 0; j >= 0 && k < before && !tokens[j + 1]!.breakBefore; j--, k++) if (words.has(tokens[j]!.text)) return true;
    for (let j = m.i + m.n, k = 0; j < tokens.length && k < after && !tokens[j]!.breakBefore; j++, k++) if (words.has(tokens[j]!.text)) return true;
    return false;
  };

  // Pass 1: modifiers scale what follows them, or fall back to their own meaning.
  for (let k = 0; k < matches.length; k++) {
    const m = matches[k]!;
    if (m.entry.kind !== 'modifier') continue;
    const next = matches[k + 1];
    if (next && gapBetween(m, next) <= 1 && !tokens[next.i]!.breakBefore && (MODIFIABLE.has(next.entry.kind) || next.entry.kind === 'modifier')) {
      next.amount *= m.entry.amount ?? 1;
      m.entry = { kind: 'meta', fields: [`${next.entry.fields[0] ?? 'effects'}`] };
    } else {
      m.entry = m.entry.fallback ?? { kind: 'meta', fields: [] };
    }
  }

  let negating = false;
  let lastNegated: Match | null = null;
  let pendingColour: { hex: string; name: string } | null = null;
  let pendingTone: Tone | null = null;
  let pastel = false;
  let surfaceNamed = false;

  const record = (m: Match, fields: string[]) => {
    const first = tokens[m.i]!;
    const last = tokens[m.i + m.n - 1]!;
    understood.push({ text: prompt.slice(first.start, last.end), start: first.start, end: last.end, fields });
  };

  for (let k = 0; k < matches.length; k++) {
    const m = matches[k]!;
    const e = m.entry;
    const next = matches[k + 1];
    const attachesTo = (() => {
      // A colour or tone describes the surface or backdrop named within the next few words.
      for (let j = k + 1; j < Math.min(matches.length, k + 4); j++) {
        const c = matches[j]!;
        if (gapBetween(matches[j - 1]!, c) > 1 || tokens[c.i]!.breakBefore) return null;
        if (ATTACHABLE.has(c.entry.kind)) return c.entry.kind;
        if (!['colour', 'tone', 'palette', 'mood', 'blur', 'modifier', 'meta'].includes(c.entry.kind)) return null;
      }
      return null;
    })();

    if (tokens[m.i]!.breakBefore) negating = false;
    if (negating && lastNegated && (gapBetween(lastNegated, m) > 2 || !gapWords(lastNegated, m).every((w) => JOINERS.has(w)))) negating = false;

    if (e.kind === 'negator') {
      negating = true;
      lastNegated = m;
      record(m, ['negation']);
      continue;
    }
    if (negating) {
      lastNegated = m;
      if (e.unset) {
        e.unset(draft);
        record(m, e.fields.map((f) => `not ${f}`));
      } else record(m, []);
      continue;
    }

    switch (e.kind) {
      case 'colour': {
        let hex = e.value!;
        if (pastel) { hex = mixHex(hex, '#ffffff', WORDS.pastelMix); pastel = false; }
        const name = prompt.slice(tokens[m.i]!.start, tokens[m.i + m.n - 1]!.end).toLowerCase();
        if (attachesTo) pendingColour = { hex, name };
        else {
          draft.palette.names!.push(name);
          draft.palette.colors!.push(hex);
        }
        record(m, attachesTo ? [attachesTo.startsWith('surface') || attachesTo === 'finish' ? 'surface.color' : 'backdrop.color'] : ['palette']);
        break;
      }
      case 'tone': {
        if (attachesTo) {
          pendingTone = e.value as Tone;
          record(m, [attachesTo.startsWith('surface') || attachesTo === 'finish' ? 'surface.tone' : 'backdrop.color']);
        } else if (e.value === 'dark') {
          draft.grade.exposure = WORDS.grade.darkExposure;
          record(m, ['grade.exposure']);
        } else record(m, []);
        break;
      }
      case 'palette': {
        if (e.value === 'pastel' && next?.entry.kind === 'colour' && gapBetween(m, next) === 0) pastel = true;
        else {
          e.set?.(draft, m.amount);
          draft.palette.names!.push(e.value!);
        }
        record(m, e.fields);
        break;
      }
      case 'surface':
      case 'surface-noun':
      case 'finish': {
        // The first surface named is what the product stands on; a material named after it (or after a
        // furniture noun) is a prop beside it: "on a glass surface with water droplets", "on a desk next to a metal lamp";
        // one hyphen-joined to the next word describes that word ("water-stained concrete").
        if (e.kind === 'surface' && (tokens[m.i + m.n]?.hyphenated || surfaceNamed || (impliedMaterial && !(next && gapBetween(m, next) === 0 && next.entry.kind === 'surface-noun')))) {
          record(m, []);
          break;
        }
        if (e.kind === 'surface') surfaceNamed = true;
        if (e.kind === 'surface-noun') { if (e.value && !impliedMaterial) impliedMaterial = e.value; } else e.set?.(draft, m.amount);
        if (pendingColour) { draft.surface.color = pendingColour.hex; pendingColour = null; }
        if (pendingTone) { draft.surface.tone = pendingTone; pendingTone = null; }
        record(m, e.fields);
        break;
      }
      case 'backdrop':
      case 'backdrop-noun':
      case 'environment': {
        e.set?.(draft, m.amount);
        const coloured = pendingColour !== null;
        if (pendingColour) {
          draft.backdrop.color = pendingColour.hex;
          draft.palette.names!.push(pendingColour.name);
          if (e.kind === 'backdrop-noun' && !draft.backdrop.kind) draft.backdrop.kind = 'sweep';
          pendingColour = null;
        }
        if (pendingTone) {
          // "pale pink background": the tone shades the colour it comes with; alone it picks a neutral
          const shade = WORDS.toneOnColour[pendingTone];
          draft.backdrop.color = coloured ? mixHex(draft.backdrop.color!, shade.towards, shade.mix) : WORDS.backdropTones[pendingTone];
          pendingTone = null;
        }
        record(m, e.fields);
        break;
      }
      case 'framing-direction': {
        const side = e.value!.replace('-third', '');
        if (near(m, LIGHT_WORDS, 3, 2)) {
          draft.light.from = side as Draft['light']['from'];
          record(m, ['light.from']);
        } else if (near(m, SHADOW_WORDS, 3, 2)) {
          draft.light.from = oppositeDirection(side) as Draft['light']['from'];
          record(m, ['light.from', 'shadow.direction']);
        } else {
          draft.framing.position = e.value as Draft['framing']['position'];
          record(m, ['framing.position']);
        }
        break;
      }
      default: {
        // "steam-free", "shadow-free": a negatable word undone by the word joined after it
        if (e.unset && POST_NEGATORS.has(tokens[m.i + m.n]?.text ?? '') && !tokens[m.i + m.n]!.breakBefore) {
          e.unset(draft);
          record(m, e.fields.map((f) => `not ${f}`));
          break;
        }
        e.set?.(draft, m.amount);
        // "warm natural light", "cool daylight": the temperature word right before a light's temperature sets it
        // (other light words may stand between them: "cool overcast daylight")
        if (e.fields.includes('light.temperature')) {
          let j = k - 1;
          while (j >= 0 && matches[j]!.entry.kind === 'light' && gapBetween(matches[j]!, matches[j + 1]!) === 0 && !tokens[matches[j + 1]!.i]!.breakBefore) j--;
          const prev = matches[j];
          if (prev?.entry.kind === 'mood' && gapBetween(prev, matches[j + 1]!) <= 1 && !tokens[matches[j + 1]!.i]!.breakBefore) {
            const t = LIGHT_TEMPERATURE_MOODS[prev.entry.value ?? ''];
            if (t !== undefined) draft.light.temperature = t;
          }
        }
        record(m, e.fields);
      }
    }
  }

  const unused: string[] = [];
  tokens.forEach((t, i) => {
    if (!covered[i] && !STOPWORDS.has(t.text) && !unused.includes(t.text)) unused.push(t.text);
  });
  const described = clause ? tokens.slice(clause.from + 1, clause.to).filter((t, k) => k > 0 || !PRODUCT_SKIP.has(t.text)) : [];
  while (described.length > 0 && PRODUCT_SKIP.has(described[0]!.text)) described.shift();
  const product = described.length > 0 ? prompt.slice(described[0]!.start, described[described.length - 1]!.end) : '';
  if (product) {
    understood.push({ text: product, start: described[0]!.start, end: described[described.length - 1]!.end, fields: ['product.description'] });
    understood.sort((a, b) => a.start - b.start);
  }
  return { draft, understood, unused, product, impliedMaterial };
}
