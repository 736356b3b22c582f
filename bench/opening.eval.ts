import { decodeImage, initCodec } from '../src/engine/codec.js';
import { createCutout, type Cutout } from '../src/engine/cutout/index.js';
import { rgba8 } from '../src/engine/raster/types.js';
import { detectOpening } from '../src/engine/scene/opening.js';
import { COMPOSITES, renderComposite, type CompositeName } from '../test/fixtures/composite.js';
import { FIXTURES, renderPackshot, type FixtureName } from '../test/fixtures/index.js';
import { trueOpening } from '../test/fixtures/openings.js';
import type { Product } from '../test/fixtures/packshot.js';
import { printTable } from './table.js';

/**
 * `npm run eval:opening [-- --model] [--set fixtures|composite|all]`: the opening detector
 * (src/engine/scene/opening.ts) on every fixture product, on its studio backdrop and in front of the
 * composite set's photographs, with no prompt: product, whether it has an opening, what was detected,
 * the rim's error against the builder's (centre distance, and the rim's half-width, in px and as a
 * share of the true half-width), the evidence (fit, aspect, neck, contrast, see-through) and the
 * reason. By default it reads the product's exact matte and its own pixels (the detector alone);
 * `--model` reads what the studio reads: the cutout's matte and decontaminated foreground (the
 * shipped model at its default size, no cache).
 */
const args = process.argv.slice(2);
const useModel = args.includes('--model');
const at = args.indexOf('--set');
const set = at >= 0 ? args[at + 1] ?? 'all' : 'all';
let cutout: Cutout | null = null;
if (useModel) {
  initCodec({ concurrency: 2 });
  cutout = createCutout({ cacheDir: '', maskCacheBytes: 0 });
}
const rows: string[][] = [];
let right = 0;
let total = 0;
const errors: number[] = [];

async function measure(set: string, name: string, product: Product, png: Buffer, alpha: Buffer, width: number, height: number): Promise<void> {
  const { image } = await decodeImage(png, { maxPixels: 1e8 });
  let rgba = Buffer.from(image.data);
  if (cutout) rgba = Buffer.from((await cutout.cutout(rgba8(rgba, width, height))).foreground.data);
  else for (let i = 0; i < width * height; i++) rgba[i * 4 + 3] = alpha[i]!;
  const t0 = performance.now();
  const r = detectOpening(rgba8(rgba, width, height));
  const ms = performance.now() - t0;
  const truth = trueOpening(product, width, height);
  const ok = (truth !== null) === (r.opening !== null);
  right += ok ? 1 : 0;
  total++;
  let err = '-';
  if (truth && r.opening) {
    const c = Math.hypot(r.opening.cx - truth.cx, r.opening.cy - truth.cy);
    const w = Math.abs(r.opening.rx - truth.rx);
    errors.push(c / truth.rx, w / truth.rx);
    err = `${c.toFixed(1)} / ${w.toFixed(1)} px (${((c / truth.rx) * 100).toFixed(1)}% / ${((w / truth.rx) * 100).toFixed(1)}%)`;
  }
  const e = r.evidence;
  rows.push([set, name, `${width}×${height}`, truth ? 'yes' : 'no', r.opening ? 'yes' : 'no', ok ? '' : 'MISS', r.confidence.toFixed(2), err,
    e ? `${e.fit} ${e.aspect} ${e.neck} ${e.contrast} ${e.seeThrough}` : '-', ms.toFixed(1), r.reason]);
}

for (const name of set === 'composite' ? [] : Object.keys(FIXTURES) as FixtureName[]) {
  const spec = FIXTURES[name];
  const shot = await renderPackshot(spec);
  await measure('fixtures', name, spec.product, shot.png, shot.alpha, shot.width, shot.height);
}
for (const name of set === 'fixtures' ? [] : Object.keys(COMPOSITES) as CompositeName[]) {
  const c = await renderComposite(name);
  await measure('composite', name, c.spec.product, c.png, c.alpha, c.width, c.height);
}
console.log(useModel ? 'the cutout\'s matte and foreground (the shipped model)' : 'the exact matte and the product\'s own pixels');
printTable(['set', 'image', 'size', 'opening', 'detected', '', 'conf.', 'rim error: centre / half-width', 'fit aspect neck contrast see-through', 'ms', 'reason'], rows);
errors.sort((a, b) => a - b);
console.log(`\n${right}/${total} right; rim error (centre and half-width, share of the true half-width) median ${((errors[Math.floor(errors.length / 2)] ?? 0) * 100).toFixed(1)}%, max ${((errors[errors.length - 1] ?? 0) * 100).toFixed(1)}%`);
await cutout?.close();
