import { TONE_LUMA, type Tone } from './presets.js';

/**
 * Colour names the planner understands: the CSS named colours plus the words photographers and
 * stylists use (sage, terracotta, blush…). Multi-word names are written with spaces.
 */

const CSS =
  'aliceblue f0f8ff,antiquewhite faebd7,aqua 00ffff,aquamarine 7fffd4,azure f0ffff,beige f5f5dc,bisque ffe4c4,black 000000,' +
  'blanchedalmond ffebcd,blue 0000ff,blueviolet 8a2be2,brown a52a2a,burlywood deb887,cadetblue 5f9ea0,chartreuse 7fff00,' +
  'chocolate d2691e,coral ff7f50,cornflowerblue 6495ed,cornsilk fff8dc,crimson dc143c,cyan 00ffff,darkblue 00008b,' +
  'darkcyan 008b8b,darkgoldenrod b8860b,darkgray a9a9a9,darkgreen 006400,darkgrey a9a9a9,darkkhaki bdb76b,darkmagenta 8b008b,' +
  'darkolivegreen 556b2f,darkorange ff8c00,darkorchid 9932cc,darkred 8b0000,darksalmon e9967a,darkseagreen 8fbc8f,' +
  'darkslateblue 483d8b,darkslategray 2f4f4f,darkslategrey 2f4f4f,darkturquoise 00ced1,darkviolet 9400d3,deeppink ff1493,' +
  'deepskyblue 00bfff,dimgray 696969,dimgrey 696969,dodgerblue 1e90ff,firebrick b22222,floralwhite fffaf0,forestgreen 228b22,' +
  'fuchsia ff00ff,gainsboro dcdcdc,ghostwhite f8f8ff,gold ffd700,goldenrod daa520,gray 808080,grey 808080,green 008000,' +
  'greenyellow adff2f,honeydew f0fff0,hotpink ff69b4,indianred cd5c5c,indigo 4b0082,ivory fffff0,khaki f0e68c,lavender e6e6fa,' +
  'lavenderblush fff0f5,lawngreen 7cfc00,lemonchiffon fffacd,lightblue add8e6,lightcoral f08080,lightcyan e0ffff,' +
  'lightgoldenrodyellow fafad2,lightgray d3d3d3,lightgreen 90ee90,lightgrey d3d3d3,lightpink ffb6c1,lightsalmon ffa07a,' +
  'lightseagreen 20b2aa,lightskyblue 87cefa,lightslategray 778899,lightslategrey 778899,lightsteelblue b0c4de,' +
  'lightyellow ffffe0,lime 00ff00,limegreen 32cd32,linen faf0e6,magenta ff00ff,maroon 800000,mediumaquamarine 66cdaa,' +
  'mediumblue 0000cd,mediumorchid ba55d3,mediumpurple 9370db,mediumseagreen 3cb371,mediumslateblue 7b68ee,' +
  'mediumspringgreen 00fa9a,mediumturquoise 48d1cc,mediumvioletred c71585,midnightblue 191970,mintcream f5fffa,' +
  'mistyrose ffe4e1,moccasin ffe4b5,navajowhite ffdead,navy 000080,oldlace fdf5e6,olive 808000,olivedrab 6b8e23,orange ffa500,' +
  'orangered ff4500,orchid da70d6,palegoldenrod eee8aa,palegreen 98fb98,paleturquoise afeeee,palevioletred db7093,' +
  'papayawhip ffefd5,peachpuff ffdab9,peru cd853f,pink ffc0cb,plum dda0dd,powderblue b0e0e6,purple 800080,rebeccapurple 663399,' +
  'red ff0000,rosybrown bc8f8f,royalblue 4169e1,saddlebrown 8b4513,salmon fa8072,sandybrown f4a460,seagreen 2e8b57,' +
  'seashell fff5ee,sienna a0522d,silver c0c0c0,skyblue 87ceeb,slateblue 6a5acd,slategray 708090,slategrey 708090,snow fffafa,' +
  'springgreen 00ff7f,steelblue 4682b4,tan d2b48c,teal 008080,thistle d8bfd8,tomato ff6347,turquoise 40e0d0,violet ee82ee,' +
  'wheat f5deb3,white ffffff,whitesmoke f5f5f5,yellow ffff00,yellowgreen 9acd32';

/** Softer, photographic renderings of the words stylists use; they win over the CSS values. */
const PHOTO =
  'sage 9caf88,sage green 9caf88,terracotta c8724f,blush e8c4bd,dusty pink d8a7a0,dusty rose c9a19b,pastel pink f2cfd3,' +
  'pastel blue c6dbe9,pastel green cfe5cf,pastel yellow f6ecbc,pastel purple d9cde8,pastel orange f6d1b0,mint c4e3d4,' +
  'cream f3ecdc,ivory f4efe3,off white f2efe8,offwhite f2efe8,bone e6dfd1,oat ded3c0,oatmeal d9ccb5,sand d8c3a0,taupe a39484,' +
  'greige bdb5a8,stone b4aca0,charcoal 36383b,graphite 44474b,anthracite 383a3d,ink 1f2430,midnight 1c2233,navy 1f2a44,navy blue 1f2a44,charcoal grey 36383b,charcoal gray 36383b,' +
  'forest green 2f4a35,emerald 2f6b4f,olive 7a7a4a,moss 6b7448,khaki b6a982,mustard c9a23f,ochre c98f3a,rust a65a34,' +
  'burnt orange c1612e,burgundy 6e2233,wine 6a2330,oxblood 5a1f22,brick a2503a,clay b6785a,peach f0c2a3,apricot f1b88e,' +
  'coral e8806a,salmon e99a84,lilac c8b3d6,lavender c9bfdf,mauve b08b97,plum 7a4a66,teal 2f7373,petrol 2b5460,' +
  'dusty blue 8aa1b4,powder blue b9cfe0,sky blue 9cc4e4,cobalt 2f54a8,denim 4f6d8f,slate 596270,slate grey 6b7480,' +
  'warm grey 9d968d,cool grey 8e949a,light grey d8d8d6,dark grey 4a4c4f,champagne e9dcc2,gold c9a45c,golden c9a45c,' +
  'brass b5974a,copper b87333,bronze 8c6a3f,silver c4c6c8,chocolate 5a3a28,espresso 3b2a20,caramel b07a45,honey c8913e,' +
  'walnut 5d4030,black 141414,white f7f6f3,pink e9b7bf,green 5f8a5f,blue 4d74a8,red b23a3a,orange e08a3c,yellow ecc94b,' +
  'purple 7b5a9a,brown 7a5238,beige e4d8c4,grey 8c8c8c,gray 8c8c8c,nude dcc0ad,butter f1e3a6,lemon f0e07a,mint green c4e3d4';

function table(src: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const pair of src.split(',')) {
    const i = pair.lastIndexOf(' ');
    m.set(pair.slice(0, i), `#${pair.slice(i + 1)}`);
  }
  return m;
}

let colours: Map<string, string> | undefined;

/** Every colour name → #rrggbb (built on first use, not at import). */
export function colourTable(): Map<string, string> {
  if (!colours) {
    colours = table(CSS);
    for (const [k, v] of table(PHOTO)) colours.set(k, v);
  }
  return colours;
}

export function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function rgbToHex(r: number, g: number, b: number): string {
  const c = (v: number) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0');
  return `#${c(r)}${c(g)}${c(b)}`;
}

/** Mixes two colours (t = 0 → a, 1 → b). */
export function mixHex(a: string, b: string, t: number): string {
  const x = hexToRgb(a);
  const y = hexToRgb(b);
  return rgbToHex(x[0] + (y[0] - x[0]) * t, x[1] + (y[1] - x[1]) * t, x[2] + (y[2] - x[2]) * t);
}

/** Relative luminance 0..1 (sRGB-ish, good enough for tone decisions). */
export function luma(hex: string): number {
  const [r, g, b] = hexToRgb(hex);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

/** A colour's tone, light, medium or dark, by its luma. */
export function toneOf(hex: string): Tone {
  return luma(hex) > TONE_LUMA.light ? 'light' : luma(hex) < TONE_LUMA.dark ? 'dark' : 'medium';
}
