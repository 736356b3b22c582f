import type { SceneOverride } from '../contract/scene.js';
import { colourTable } from './colors.js';
import { WORDS } from './presets.js';

/**
 * The planner's vocabulary: phrases (token sequences) and what each sets on the draft plan.
 * docs/scene-plan.md lists the same words for people. Pure data and closures, no I/O, so the web
 * studio can bundle it.
 */

export type Draft = {
  [K in keyof SceneOverride]-?: NonNullable<SceneOverride[K]>;
};

export type EntryKind =
  | 'surface' | 'surface-noun' | 'backdrop' | 'backdrop-noun' | 'environment' | 'light' | 'light-direction' | 'shadow-direction'
  | 'framing-direction' | 'mood' | 'effect' | 'shadow' | 'reflection' | 'framing' | 'style' | 'colour' | 'tone' | 'finish'
  | 'time' | 'pattern' | 'blur' | 'modifier' | 'negator' | 'meta' | 'context' | 'palette';

export interface Entry {
  kind: EntryKind;
  /** dotted plan paths this entry sets (shown to users) */
  fields: string[];
  /** sets the draft; `amount` scales intensities (soft steam → less steam) */
  set?: (d: Draft, amount: number) => void;
  /** what "no X" / "without X" means; entries without it cannot be negated */
  unset?: (d: Draft) => void;
  /** a direction word ('left', 'top-left' …) or a colour hex / tone, for the kinds that carry one */
  value?: string;
  /** modifier strength (WORDS.modifiers: below 1 for "soft", above for "strong") */
  amount?: number;
  /** what a modifier word means when nothing it can modify follows */
  fallback?: Entry;
}

type Dir = 'left' | 'right' | 'front' | 'back' | 'top' | 'front-left' | 'front-right' | 'back-left' | 'back-right' | 'top-left' | 'top-right' | 'top-front' | 'top-back';

const DIR_WORDS: Array<[Dir, string[]]> = [
  ['left', ['left', 'left hand', 'left side', 'camera left']],
  ['right', ['right', 'right hand', 'right side', 'camera right']],
  ['front', ['front', 'the front']],
  ['back', ['back', 'rear', 'behind']],
  ['top', ['top', 'above', 'overhead']],
  ['top-left', ['top left', 'upper left', 'top left side', 'above left']],
  ['top-right', ['top right', 'upper right', 'above right']],
  ['front-left', ['front left']],
  ['front-right', ['front right']],
  ['back-left', ['back left', 'rear left']],
  ['back-right', ['back right', 'rear right']],
];

const OPPOSITE: Record<Dir, Dir> = {
  left: 'right', right: 'left', front: 'back', back: 'front', top: 'top', 'front-left': 'back-right', 'front-right': 'back-left',
  'back-left': 'front-right', 'back-right': 'front-left', 'top-left': 'right', 'top-right': 'left', 'top-front': 'back', 'top-back': 'front',
};

export function oppositeDirection(d: string): string {
  return OPPOSITE[d as Dir] ?? d;
}

const lightDir = (dir: Dir, rim = false): Entry => ({
  kind: 'light-direction', value: dir, fields: rim ? ['light.from', 'light.rim'] : ['light.from'],
  set: (d) => { d.light.from = dir; if (rim) d.light.rim = { ...d.light.rim, enabled: true }; },
});

/**
 * "Top-down" and "flat lay" in words: a high camera over a surface that fills the frame (no horizon).
 * A product cut out of a side-on packshot cannot be turned to face the sky, so it keeps its own
 * viewpoint; `framing.camera: "top-down"` set explicitly is for products photographed from above.
 */
function overhead(d: Draft): void {
  d.framing.camera = 'high';
  d.framing.horizon = 0;
}

let built: Map<string, Entry> | undefined;
let longest = 1;

/** phrase (tokens joined by one space) → entry; built on first use. */
export function vocabulary(): { phrases: Map<string, Entry>; longest: number } {
  if (!built) {
    built = build();
    for (const k of built.keys()) longest = Math.max(longest, k.split(' ').length);
  }
  return { phrases: built, longest };
}

function build(): Map<string, Entry> {
  const m = new Map<string, Entry>();
  const add = (phrases: string | string[], e: Entry) => {
    for (const p of Array.isArray(phrases) ? phrases : phrases.split('|')) m.set(p.trim(), e);
  };

  // ---- surfaces -------------------------------------------------------------------------------
  const material = (mat: NonNullable<Draft['surface']['material']>, extra: Partial<Draft['surface']> = {}): Entry => ({
    kind: 'surface', value: mat, fields: ['surface.material', ...Object.keys(extra).map((k) => `surface.${k}`)],
    set: (d) => { d.surface.material = mat; Object.assign(d.surface, extra); },
    unset: (d) => { if (d.surface.material === mat) delete d.surface.material; },
  });
  add('slate|slate stone|slate slab|slate board|slate tile|slate plate|schist', material('slate'));
  add('marble|marble slab|marble top|marble tile|marbled', material('marble'));
  add('carrara|carrara marble|calacatta|calacatta marble', material('marble', { tone: 'light' }));
  add('nero marquina|black marble', material('marble', { tone: 'dark' }));
  add('wood|wooden|timber|plank|planks|wood grain|woodgrain|butcher block|chopping board|cutting board|teak|bamboo|driftwood|reclaimed wood', material('wood'));
  add('oak|oak wood|light oak|ash wood|pine|maple|birch|beech|blonde wood', material('wood', { tone: 'light' }));
  add('walnut|walnut wood|dark wood|mahogany|ebony|wenge|rosewood|dark oak|smoked oak', material('wood', { tone: 'dark' }));
  add('concrete|cement|microcement|raw concrete|polished concrete|brutalist', material('concrete'));
  add('stone|granite|basalt|rock|rocks|pebble|pebbles|quartz|quartzite|onyx', material('stone'));
  add('travertine|limestone|sandstone|travertine stone|limestone slab', material('stone', { tone: 'light' }));
  add('linen|burlap|jute|hessian|fabric|cloth|tablecloth|table cloth|cotton|textile|napkin|canvas|silk|satin sheet|bedsheet|sheets|velvet|wool|knit', material('linen'));
  add('terrazzo', material('terrazzo'));
  add('sand|sandy|beach sand|dune|dunes', material('sand'));
  add('paper|kraft paper|cardboard|seamless paper', material('paper'));
  add('metal|steel|stainless|stainless steel|brushed metal|brushed steel|aluminium|aluminum|chrome|brass|copper|zinc|tin', material('metal'));
  add('glass|acrylic|perspex|plexiglass|plexi|glass top|glass shelf', material('glass'));
  add('mirror|mirrored|mirror surface|mirror plate', material('mirror'));
  add('water|pool|puddle|ripples|water surface|rippling water|shallow water', material('water'));
  add('floating|levitating|suspended|mid air|midair|in the air', {
    kind: 'surface', value: 'none', fields: ['surface.material'], set: (d) => { d.surface.material = 'none'; },
  });
  // Furniture nouns imply a material when the prompt names none ("on the counter" → wood).
  add('counter|countertop|counter top|tabletop|table top|table|bench top|benchtop|bench|desk|worktop|work top|bar|bar top|shelf|ledge|dresser|sideboard|nightstand|bedside table|coffee table|dining table|kitchen island|island|tray', {
    kind: 'surface-noun', value: 'wood', fields: ['surface'],
  });
  add('vanity|kitchen counter|bathroom counter|washbasin|sink', { kind: 'surface-noun', value: 'marble', fields: ['surface'] });
  add('surface|slab|board|plinth|pedestal|podium|block|floor|ground|base|platform|riser|stand|top|tile|tiles', { kind: 'surface-noun', fields: ['surface'] });

  // ---- finishes -------------------------------------------------------------------------------
  const finish = (f: NonNullable<Draft['surface']['finish']>, reflect?: boolean): Entry => ({
    kind: 'finish', value: f, fields: reflect ? ['surface.finish', 'reflection'] : ['surface.finish'],
    set: (d) => { d.surface.finish = f; if (reflect) d.reflection = { ...d.reflection, enabled: true }; },
  });
  add('matte|matt|honed|unpolished|rough|raw|textured|brushed', finish('matte'));
  add('satin|semi gloss|semigloss|eggshell|oiled|waxed', finish('satin'));
  add('glossy|gloss|polished|shiny|lacquered|lacquer|wet|varnished|sleek|high gloss', finish('glossy', true));
  add('mirror finish|mirror like|mirrorlike|mirror polished', finish('mirror', true));

  // ---- backdrops ------------------------------------------------------------------------------
  const backdrop = (kind: NonNullable<Draft['backdrop']['kind']>): Entry => ({
    kind: 'backdrop', value: kind, fields: ['backdrop.kind'], set: (d) => { d.backdrop.kind = kind; },
  });
  add('seamless|sweep|seamless sweep|paper sweep|infinity cove|infinity curve|cyclorama|cyc|seamless background|seamless backdrop|studio sweep|studio backdrop|studio background|backdrop paper', backdrop('sweep'));
  add('wall|painted wall|colored wall|coloured wall|painted backdrop|wall behind', backdrop('wall'));
  add('plaster|plaster wall|stucco|limewash|lime wash|venetian plaster|textured wall|textured backdrop|microcement wall|clay wall', backdrop('plaster'));
  add('gradient|gradient background|gradient backdrop|ombre|graduated background|color gradient|colour gradient', backdrop('gradient'));
  add('solid|solid background|solid backdrop|plain background|plain backdrop|solid color|solid colour|flat background|color background|colour background', backdrop('solid'));
  add('background|backdrop|backgrounds|scene|setting|interior|environment|room|space|behind it|behind', { kind: 'backdrop-noun', fields: ['backdrop'] });

  const env = (e: NonNullable<Draft['backdrop']['environment']>): Entry => ({
    kind: 'environment', value: e, fields: ['backdrop.environment'],
    set: (d) => { d.backdrop.environment = e; d.backdrop.kind = 'environment'; },
    unset: (d) => { if (d.backdrop.environment === e) d.backdrop.environment = 'none'; },
  });
  add('cafe|coffee shop|coffeeshop|coffee house|coffeehouse|bistro|restaurant|bakery|brasserie|espresso bar|cafe interior|barista', env('cafe'));
  add('kitchen|kitchen interior|home kitchen|rustic kitchen', env('kitchen'));
  add('bathroom|bath|spa|shower|washroom|bathroom interior', env('bathroom'));
  add('living room|lounge|sitting room|sofa|couch|home interior|livingroom', env('living-room'));
  add('bedroom|bed|bedroom interior|boudoir', env('bedroom'));
  add('office|workspace|work space|home office|studio office|coworking|workplace', env('office'));
  add('garden|patio|terrace|backyard|greenery|botanical|greenhouse|plants|balcony', env('garden'));
  add('park|outdoor|outdoors|outside|meadow|lawn|grass|grassy field|countryside|open air|picnic', env('park'));
  add('lobby|hotel lobby|foyer|atrium|reception|hotel hall|entrance hall|hallway|mall|shopping mall|boutique|showroom', env('lobby'));
  add('workshop|garage|workbench|atelier|factory|industrial|warehouse|loft|industrial loft|maker space|makerspace|studio workshop', env('workshop'));
  add('street|city street|urban|downtown|sidewalk|pavement|plaza|city square|city|cityscape|town square', env('street'));
  add('forest|woods|woodland|jungle|moss|mossy|rainforest|trees', env('forest'));
  add('beach|seaside|ocean|sea|coast|coastal|shore|seashore|tropical|summer beach|by the sea', env('beach'));
  add('city at night|night city|city lights|city night|urban night|street at night|cityscape at night|neon|neon lights|night street|nightlife|downtown at night|city street at night', env('city-night'));

  // ---- blur / depth of field ------------------------------------------------------------------
  const blur = (v: number): Entry => ({ kind: 'blur', fields: ['backdrop.blur'], set: (d, a) => { d.backdrop.blur = Math.min(1, v * (v < WORDS.blur.scaledFrom ? 1 : a)); } });
  add('blurred|blurry|blur|out of focus|defocused|soft focus|shallow depth of field|shallow dof|shallow focus|dreamy|softly blurred', blur(WORDS.blur.blurred));
  add('heavily blurred|very blurred|creamy bokeh background|extremely blurred', blur(WORDS.blur.heavily));
  add('slightly blurred|softly out of focus|gently blurred', blur(WORDS.blur.slightly));
  add('sharp background|in focus background|background in focus|deep depth of field|everything in focus', blur(WORDS.blur.sharp));

  // ---- light: directions ----------------------------------------------------------------------
  for (const [dir, words] of DIR_WORDS) {
    for (const w of words) {
      const forms = [
        `from the ${w}`, `from ${w}`, `lit from the ${w}`, `lit from ${w}`, `light from the ${w}`, `light from ${w}`, `lighting from the ${w}`,
        `light coming from the ${w}`, `light comes from the ${w}`, `key light from the ${w}`, `sun from the ${w}`, `sunlight from the ${w}`,
        `${w} light`, `${w} lighting`, `${w} lit`, `${w} side light`, `${w} side lighting`, `${w} key light`, `${w} window`,
        `window on the ${w}`, `window to the ${w}`, `window at the ${w}`, `illuminated from the ${w}`,
      ];
      add(forms.filter((f) => !m.has(f)), lightDir(dir, dir === 'back'));
      const shadowForms = [`shadow from the ${w}`, `shadows from the ${w}`, `shadow coming from the ${w}`, `shadow to the ${w}`, `shadows to the ${w}`, `shadow on the ${w}`, `shadows on the ${w}`, `shadow falling ${w}`, `shadow falling to the ${w}`, `shadow cast to the ${w}`, `shadows falling to the ${w}`];
      add(shadowForms, { kind: 'shadow-direction', value: dir, fields: ['light.from', 'shadow.direction'], set: (d) => { d.light.from = OPPOSITE[dir]; } });
    }
  }
  add('side light|side lighting|side lit|sidelit|sidelight|sidelighting|side light source|from the side|lit from the side|light from the side|raking light|raking|directional light|directional lighting|split lighting|chiaroscuro', lightDir('left'));
  add('backlit|backlight|backlighting|back lit|back light|back lighting|contre jour|counter light|against the light|rim lit', lightDir('back', true));
  add('top lit|toplit|top light|top lighting|overhead light|overhead lighting|from above|lit from above|light from above|downlight|down light|skylight|overhead sun|sun overhead', lightDir('top'));
  add('front lit|frontlit|front light|front lighting|frontal light|frontal lighting|from the front|head on light|flat front light|on camera flash|flash', lightDir('front'));
  for (const d of ['left', 'right'] as const) {
    add([d, `on the ${d}`, `to the ${d}`, `${d} of frame`, `${d} of the frame`, `${d} side of the frame`, `${d} of center`, `placed ${d}`, `positioned ${d}`, `${d} aligned`],
      { kind: 'framing-direction', value: d, fields: ['framing.position'] });
    add([`${d} third`, `${d} hand third`, `the ${d} third`], { kind: 'framing-direction', value: `${d}-third`, fields: ['framing.position'] });
  }
  add('no harsh shadows|no harsh shadow|without harsh shadows|no hard shadows|without hard shadows|no strong shadows', {
    kind: 'shadow', fields: ['shadow.softness', 'shadow.opacity'], set: (d) => { d.shadow.softness = WORDS.shadow.noHarsh.softness; d.shadow.opacity = WORDS.shadow.noHarsh.opacity; },
  });
  add('off center|off centre|rule of thirds|asymmetric|asymmetrical', { kind: 'framing-direction', value: 'right-third', fields: ['framing.position'] });
  add('centered|centred|center|centre|in the middle|middle|symmetrical|symmetric', {
    kind: 'framing', fields: ['framing.position'], set: (d) => { d.framing.position = 'center'; },
  });

  // ---- light: quality -------------------------------------------------------------------------
  const light = (fields: string[], set: (d: Draft) => void): Entry => ({ kind: 'light', fields, set });
  add('hard light|hard lighting|harsh light|harsh lighting|harsh|direct light|direct sunlight|direct sun|strong sunlight|crisp light|spotlight|spot light|spotlit|specular light|bright sun|midday sun|hard sunlight', light(['light.hardness'], (d) => { d.light.hardness = WORDS.light.hard.hardness; }));
  add('soft light|soft lighting|softly lit|soft lit|diffused|diffuse|diffused light|diffuse light|diffused lighting|softbox|soft box|overcast|cloudy|gentle light|even light|even lighting|wrap light|wrapping light|north light|indirect light|bounce light|bounced light', light(['light.hardness'], (d) => { d.light.hardness = WORDS.light.soft.hardness; }));
  // a quality word before a side light sets both: "hard side light from the right" is hard, and from the side
  for (const [words, quality] of [['hard|harsh|crisp|strong', WORDS.light.hard], ['soft|diffused|diffuse|gentle', WORDS.light.soft]] as const) {
    const side = lightDir('left');
    const phrases = words.split('|').flatMap((w) => [`${w} side light`, `${w} side lighting`, `${w} directional light`, `${w} raking light`]);
    add(phrases, { ...side, fields: [...side.fields, 'light.hardness'], set: (d, amount) => { side.set!(d, amount); d.light.hardness = quality.hardness; } });
  }
  add('window light|window lighting|natural window light|light through a window|light through the window|light from a window|light from the window|window|windows|window frame|window pane|window panes|window shadow|window shadows|window frame shadow|window frame shadows|french window', {
    kind: 'pattern', value: 'window', fields: ['light.pattern'], set: (d) => { d.light.pattern = 'window'; }, unset: (d) => { d.light.pattern = 'none'; },
  });
  add('blinds|venetian blinds|window blinds|blind shadows|blinds shadows|shutters|shutter shadows|slatted light|striped light|stripes of light|light stripes|slats', {
    kind: 'pattern', value: 'blinds', fields: ['light.pattern'], set: (d) => { d.light.pattern = 'blinds'; }, unset: (d) => { d.light.pattern = 'none'; },
  });
  add('leaves|leaf|leaf shadow|leaf shadows|leaves shadow|leaves shadows|palm|palm leaf|palm leaves|palm shadow|palm shadows|palm leaf shadow|palm leaf shadows|palm frond|palm fronds|foliage|foliage shadows|dappled|dappled light|dappled sunlight|dappled shadows|plant shadow|plant shadows|tree shadows|gobo|leafy shadows|monstera|monstera shadow', {
    kind: 'pattern', value: 'leaves', fields: ['light.pattern'], set: (d) => { d.light.pattern = 'leaves'; }, unset: (d) => { d.light.pattern = 'none'; },
  });
  add('rim light|rim lighting|rim|edge light|edge lighting|hair light|kicker|kicker light|outline light|halo light|glowing edges', {
    kind: 'light', fields: ['light.rim'], set: (d, a) => { d.light.rim = { enabled: true, intensity: Math.min(1, WORDS.light.rim.intensity * a) }; }, unset: (d) => { d.light.rim = { enabled: false }; },
  });
  add('warm light|warm lighting|warm tones|warm glow|warm sunlight|warmly lit|tungsten|incandescent|amber light|golden light|golden glow|warm white', light(['light.temperature'], (d) => { d.light.temperature = WORDS.light.warm.temperature; }));
  add('candlelight|candle light|candlelit|firelight|fire light', light(['light.temperature', 'light.intensity'], (d) => { d.light.temperature = WORDS.light.candle.temperature; d.light.intensity = WORDS.light.candle.intensity; }));
  add('cool light|cool lighting|cold light|blue light|cool tones|cold tones|bluish light|blue hour|icy light|moonlight|moonlit', light(['light.temperature'], (d) => { d.light.temperature = WORDS.light.cool.temperature; }));
  add('daylight|natural light|natural lighting|neutral light|sunlight|sunlit|sun|sunny|sunshine|daylit|day light', light(['light.temperature'], (d) => { d.light.temperature = WORDS.light.daylight.temperature; }));
  add('high contrast|contrasty|punchy|strong contrast|deep shadows|bold contrast|crushed blacks', light(['light.contrast'], (d) => { d.light.contrast = WORDS.light.highContrast.contrast; }));
  add('low contrast|flat light|flat lighting|gentle contrast|muted contrast|soft contrast', light(['light.contrast'], (d) => { d.light.contrast = WORDS.light.lowContrast.contrast; }));
  add('dim|dimly lit|low light|dark lighting|darkened|underexposed', light(['light.intensity', 'grade.exposure'], (d) => { d.light.intensity = WORDS.light.dim.intensity; d.grade.exposure = WORDS.light.dim.exposure; }));
  add('brightly lit|well lit|strong light|bright light|bright lighting|intense light|overexposed', light(['light.intensity', 'grade.exposure'], (d) => { d.light.intensity = WORDS.light.bright.intensity; d.grade.exposure = WORDS.light.bright.exposure; }));

  // ---- time of day ----------------------------------------------------------------------------
  const time = (t: NonNullable<Draft['light']['time_of_day']>): Entry => ({ kind: 'time', value: t, fields: ['light.time_of_day'], set: (d) => { d.light.time_of_day = t; } });
  add('morning|morning light|morning sun|morning sunlight|sunrise|dawn|early morning|breakfast|early light|first light|am light', time('morning'));
  add('golden hour|golden hour light|golden hour sun|golden hour sunlight|sunset|sunset sun|sundown|late afternoon|late afternoon sun|golden sunlight|magic hour|sunset light|setting sun|low sun', time('golden-hour'));
  add('noon|midday|high noon|noon sun|lunchtime|mid day', time('noon'));
  add('afternoon|afternoon light|afternoon sun|daytime', time('afternoon'));
  add('evening|dusk|twilight|evening light|early evening', time('evening'));
  add('night|nighttime|night time|at night|after dark|midnight|nocturnal|late night', time('night'));

  // ---- moods and styles -----------------------------------------------------------------------
  const mood = (mo: NonNullable<Draft['mood']>[number], extra?: (d: Draft) => void): Entry => ({
    kind: 'mood', value: mo, fields: ['mood'],
    set: (d) => { if (!d.mood.includes(mo)) d.mood.push(mo); extra?.(d); },
    unset: (d) => { d.mood = d.mood.filter((x) => x !== mo); },
  });
  add('dramatic|drama|dramatically|striking|bold', mood('dramatic'));
  add('moody|mood|dark and moody|brooding|atmospheric moody|noir|dark moody', mood('moody'));
  add('low key|lowkey|low key lighting|dark key|chiaroscuro style|shadowy', mood('low-key'));
  add('high key|highkey|high key lighting|bright and clean|clean white', mood('high-key'));
  add('bright|luminous|radiant|light filled|sunlit room|cheerful|vibrant|fresh', mood('bright'));
  add('airy|light and airy|airy light|breezy|ethereal|dreamy light', mood('airy'));
  add('soft|gentle|delicate|calm|serene|tranquil|peaceful|cozy|cosy|hygge|intimate|quiet', mood('soft'));
  add('warm|warmth|warm toned|warm tone|toasty|inviting|golden|amber|honeyed', mood('warm'));
  add('cool|cold|cool toned|cool tone|crisp|icy|wintry|fresh cool', mood('cool'));
  add('natural|organic|authentic|candid|real|realistic|earthy|rustic', mood('natural'));
  add('cinematic|filmic|film look|film still|movie still|analog|analogue|film|35mm', mood('cinematic'));
  const style = (s: NonNullable<Draft['style']>, extra?: (d: Draft) => void): Entry => ({
    kind: 'style', value: s, fields: ['style'], set: (d) => { d.style = s; extra?.(d); },
  });
  // Words that describe any style ("clean", "modern") name one only when no other style word does: "e-commerce clean" is a catalogue shot.
  const looseStyle = (s: NonNullable<Draft['style']>): Entry => ({ kind: 'style', value: s, fields: ['style'], set: (d) => { d.style ??= s; } });
  add('editorial|magazine|editorial photography|editorial style|hero|hero shot|hero image|campaign|advertising|advert|ad campaign|fine art', style('editorial'));
  add('lifestyle|lifestyle photography|lifestyle shot|lifestyle image|in use|in situ|in context|styled|styled scene|everyday', style('lifestyle'));
  add('minimal|minimalist|minimalistic|minimalism|understated|scandinavian|nordic|zen', style('minimal'));
  add('clean|simple|modern|contemporary', looseStyle('minimal'));
  add('luxury|luxurious|premium|high end|highend|elegant|upscale|opulent|exclusive|sophisticated|glamorous|glamour|jewelry|jewellery', style('luxury'));
  add('catalogue|catalog|ecommerce|e commerce|packshot|pack shot|product page|amazon|marketplace|listing|white background', style('catalogue'));
  add('studio|studio shot|studio photography|studio lighting|studio light|professional studio', style('studio'));
  // A flat lay is an overhead still: the surface seen from above, filling the frame. The product was
  // photographed from the side, so it stands as photographed under a high camera (see overhead()).
  add('flat lay|flatlay|flat laid|knolling|overhead flat lay', { ...style('flat-lay', overhead), fields: ['style', 'framing.camera', 'framing.horizon'] });

  // ---- shadows and reflections ----------------------------------------------------------------
  const shadow = (fields: string[], set: (d: Draft, a: number) => void): Entry => ({
    kind: 'shadow', fields, set, unset: (d) => { d.shadow.cast = false; d.shadow.contact = false; },
  });
  add('shadow|shadows|cast shadow|cast shadows|drop shadow|drop shadows|natural shadow|natural shadows|realistic shadow|realistic shadows|shadowing', shadow(['shadow.cast'], (d, a) => { d.shadow.cast = true; if (a !== 1) d.shadow.opacity = Math.min(1, WORDS.shadow.opacity * a); }));
  add('long shadow|long shadows|elongated shadow|elongated shadows|stretched shadows', shadow(['shadow.cast', 'light.elevation'], (d) => { d.shadow.cast = true; d.light.elevation = WORDS.shadow.long.elevation; }));
  add('soft shadow|soft shadows|diffused shadow|diffused shadows|gentle shadow|gentle shadows|faint shadow|faint shadows|subtle shadow|subtle shadows', shadow(['shadow.softness', 'shadow.opacity'], (d) => { d.shadow.cast = true; d.shadow.softness = WORDS.shadow.soft.softness; d.shadow.opacity = WORDS.shadow.soft.opacity; }));
  add('hard shadow|hard shadows|crisp shadow|crisp shadows|sharp shadow|sharp shadows|defined shadow|defined shadows|strong shadow|strong shadows|dark shadow|dark shadows|bold shadows', shadow(['shadow.softness', 'shadow.opacity'], (d) => { d.shadow.cast = true; d.shadow.softness = WORDS.shadow.hard.softness; d.shadow.opacity = WORDS.shadow.hard.opacity; }));
  add('contact shadow|contact shadows|grounding shadow|ambient occlusion|grounded', shadow(['shadow.contact'], (d) => { d.shadow.contact = true; }));
  add('shadowless|shadow free|no shadows at all', { kind: 'shadow', fields: ['shadow.cast', 'shadow.contact'], set: (d) => { d.shadow.cast = false; d.shadow.contact = false; } });
  add('reflection|reflections|reflected|reflective|mirror reflection|glossy reflection|reflecting|reflective surface|soft reflection|subtle reflection', {
    kind: 'reflection', fields: ['reflection.enabled'], set: (d, a) => { d.reflection.enabled = true; if (a !== 1) d.reflection.strength = Math.min(1, WORDS.reflection.strength * a); },
    unset: (d) => { d.reflection.enabled = false; },
  });

  // ---- effects --------------------------------------------------------------------------------
  const effect = (e: keyof Draft['effects']): Entry => ({
    kind: 'effect', value: e, fields: [`effects.${e}`],
    set: (d, a) => { d.effects[e] = Math.round(Math.min(1, WORDS.effects[e] * a) * 100) / 100; },
    unset: (d) => { d.effects[e] = 0; },
  });
  add('steam|steaming|steamy|steam wisp|steam wisps|wisp of steam|wisps of steam|wisp|wisps|vapor|vapour|rising steam|hot steam|steam rising|freshly brewed|piping hot', effect('steam'));
  add('smoke|smoky|smokey|smoke wisp|smoke wisps|wisp of smoke|wisps of smoke|incense|incense smoke|smoulder|smoldering', effect('smoke'));
  add('mist|misty|fog|foggy|low fog|fog machine|cloud|clouds|dry ice|mystical', effect('mist'));
  add('bokeh|bokeh lights|bokeh background|fairy lights|string lights|twinkle lights|christmas lights|festive lights|sparkles|sparkle|glitter|lights in the background', effect('bokeh'));
  add('light rays|rays|sun rays|sunrays|god rays|godrays|sunbeams|sunbeam|light beams|light beam|beams of light|shafts of light|light shafts|volumetric light|volumetric lighting|crepuscular rays', effect('rays'));
  add('haze|hazy|atmospheric|atmosphere|glow|glowing|soft glow|halation|bloom', effect('haze'));
  add('dust|dusty|dust particles|floating dust|particles|specks|motes|dust motes|floating particles|flour dust|pollen', effect('dust'));

  // ---- framing --------------------------------------------------------------------------------
  const framing = (fields: string[], set: (d: Draft) => void): Entry => ({ kind: 'framing', fields, set });
  add('close up|closeup|close|macro|tight crop|tight framing|tight|detail shot|fills the frame|fill the frame|large in frame|zoomed in', framing(['framing.size'], (d) => { d.framing.size = WORDS.framing.closeUp; }));
  add('wide|wide shot|wide angle|zoomed out|small in frame|small in the frame|far away|distant|room to breathe|lots of space|in the distance', framing(['framing.size'], (d) => { d.framing.size = WORDS.framing.wide; }));
  add('negative space|copy space|space for text|room for text|text space|empty space|breathing room', framing(['framing.size', 'framing.position'], (d) => { d.framing.size = WORDS.framing.negativeSpace; d.framing.position = 'right-third'; }));
  add('low angle|low camera|worms eye|worm s eye|from below|ground level|table level|tabletop level|hero angle', framing(['framing.camera'], (d) => { d.framing.camera = 'low'; }));
  add('eye level|straight on|straight-on|head on|front view|side view|frontal view|level camera', framing(['framing.camera'], (d) => { d.framing.camera = 'eye'; }));
  add('high angle|from above angle|elevated view|elevated angle|three quarter view|45 degree|45 degrees|looking down', framing(['framing.camera'], (d) => { d.framing.camera = 'high'; }));
  add('top down|topdown|top view|overhead shot|overhead view|overhead angle|birds eye|bird s eye|bird s eye view|birds eye view|directly above|from directly above|plan view', framing(['framing.camera', 'framing.horizon'], overhead));

  // ---- colours, tones, palette ----------------------------------------------------------------
  for (const [name, hex] of colourTable()) {
    if (!m.has(name)) m.set(name, { kind: 'colour', value: hex, fields: ['palette'] });
  }
  add('dark|deep|darker', { kind: 'tone', value: 'dark', fields: ['surface.tone'] });
  add('light|pale|lighter|bleached|whitewashed|light colored|light coloured', { kind: 'tone', value: 'light', fields: ['surface.tone'] });
  add('medium|mid|mid tone|midtone|natural tone', { kind: 'tone', value: 'medium', fields: ['surface.tone'] });
  add('pastel|pastels|muted|dusty|washed|faded|soft colored|soft coloured', { kind: 'palette', value: 'pastel', fields: ['palette', 'grade.saturation'], set: (d) => { d.grade.saturation = WORDS.grade.pastelSaturation; } });
  add('monochrome|monochromatic|tonal|tone on tone|neutral|neutrals|neutral tones|earth tones|earthy tones', { kind: 'palette', value: 'neutral', fields: ['palette', 'grade.saturation'], set: (d) => { d.grade.saturation = WORDS.grade.neutralSaturation; } });
  add('colorful|colourful|saturated|vivid|bold colors|bold colours|pop of color|pop of colour', { kind: 'palette', value: 'vivid', fields: ['grade.saturation'], set: (d) => { d.grade.saturation = WORDS.grade.vividSaturation; } });
  add('grain|film grain|grainy|noise', { kind: 'light', fields: ['grade.grain'], set: (d) => { d.grade.grain = WORDS.grade.grain; }, unset: (d) => { d.grade.grain = 0; } });
  add('vignette|vignetting|dark corners', { kind: 'light', fields: ['grade.vignette'], set: (d) => { d.grade.vignette = WORDS.grade.vignette; }, unset: (d) => { d.grade.vignette = 0; } });

  // ---- modifiers, negators, meta --------------------------------------------------------------
  // A modifier scales the effect that follows it ("soft steam"); alone it keeps its own meaning.
  const modifier = (words: string, amount: number) => {
    for (const w of words.split('|')) m.set(w, { kind: 'modifier', amount, fields: [], fallback: m.get(w) });
  };
  modifier('soft|subtle|gentle|faint|thin|slight|light|delicate|little|hint of|touch of|a bit of|some|wispy|small|lightly|slightly|barely|single', WORDS.modifiers.less);
  modifier('heavy|thick|strong|dense|lots of|plenty of|intense|big|lush|billowing|much|rich|abundant|generous|deep', WORDS.modifiers.more);
  add('no|without|not|remove|minus|zero|free of|none|lose|drop|exclude|excluding|avoid|never|nor', { kind: 'negator', fields: [] });
  add('keep|kept|keeping|unchanged|unaltered|untouched|intact|preserve|preserved|preserving|exact|exactly|same|identical|original|faithful|accurate|true to|shape|color|colour|colors|colours|label|labels|logo|branding|proportions|form|details|product|products|item|object|photography|photo|photograph|photographic|shot|image|picture|render|rendering|professional|high quality|quality|hq|hd|4k|8k|high resolution|realistic|photorealistic|photo realistic|commercial|ultra|detailed|sharp|crisp detail|stunning|beautiful|nice|lovely|pretty|perfect|clean composition|composition|composed|aesthetic|look|vibe|feel|style|styled shot|shoot|photoshoot|photo shoot|lit|lighting|light source|lights|lamp|illumination|illuminated|key light|fill light|lamp light', { kind: 'meta', fields: [] });
  return m;
}

/** Words that carry no scene meaning on their own; never reported as unused. */
export const STOPWORDS = new Set(
  ('a an the this that these those my our your its it it s is are be being been was were with and or of on onto upon in into at to for from by as ' +
    'place placed placing put set sit sits sitting standing stand stands show shows showing showcase showcased feature featuring featured ' +
    'position positioned arrange arranged display displayed put please make create generate give me us we i you let lets ' +
    'there here which who whose while where when then than so also just only but very really quite rather too some any each both ' +
    'behind against beside next near around over under below beneath above atop across along inside within among between up down out off ' +
    'has have having had do does done can could should would will shall may might must s t').split(' '),
);
