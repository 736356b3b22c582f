import { mkdir, writeFile } from 'node:fs/promises';
import { createCutout, modelLoadMs } from '../src/engine/cutout/index.js';
import { scoreMatte } from '../src/engine/cutout/metrics.js';
import { mask8 } from '../src/engine/raster/types.js';
import { decodeImage, encodeImage, initCodec } from '../src/engine/codec.js';
import { FIXTURES, renderPackshot, type FixtureName } from '../test/fixtures/index.js';

/**
 * `npm run eval:cutout [-- NAME... --size N --out DIR]`: runs the cutout over the synthetic packshot set and
 * prints IoU, boundary F (3 px), mean absolute alpha error and time per image and overall.
 * With --out, writes each cut-out composited on dark slate for inspection.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string) => { const i = args.indexOf(name); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
  const size = opt('--size');
  const outDir = opt('--out');
  const names = (args.length ? args : Object.keys(FIXTURES)) as FixtureName[];
  initCodec({ concurrency: 2 });
  const cutout = createCutout({ cacheDir: '', maskCacheBytes: 0, modelSize: size ? Number(size) : undefined });
  if (outDir) await mkdir(outDir, { recursive: true });
  const rows: Array<{ name: string; size: string; iou: number; boundaryF: number; mae: number; maeProduct: number; ms: number }> = [];
  for (const name of names) {
    const spec = FIXTURES[name];
    if (!spec) throw new Error(`Expected a fixture name (${Object.keys(FIXTURES).join(', ')}) but received ${name}`);
    const shot = await renderPackshot(spec);
    const { image } = await decodeImage(shot.png, { maxPixels: 100e6 });
    const t0 = performance.now();
    const res = await cutout.cutout(image);
    const ms = performance.now() - t0;
    const s = scoreMatte(mask8(res.alpha, shot.width, shot.height), mask8(shot.alpha, shot.width, shot.height));
    rows.push({ name, size: `${shot.width}x${shot.height}`, ...s, ms });
    console.log(`${name.padEnd(16)} ${`${shot.width}x${shot.height}`.padEnd(10)} IoU ${s.iou.toFixed(4)}  bF ${s.boundaryF.toFixed(4)}  MAE ${s.mae.toFixed(4)}  MAE product ${s.maeProduct.toFixed(4)}  ${ms.toFixed(0).padStart(6)} ms  ${JSON.stringify(res.timings)}`);
    if (outDir) {
      const { width: w, height: h } = res.foreground;
      const slate = Buffer.alloc(w * h * 3);
      const f = res.foreground.data;
      for (let i = 0; i < w * h; i++) {
        const a = f[i * 4 + 3]! / 255;
        slate[i * 3] = Math.round(f[i * 4]! * a + 38 * (1 - a));
        slate[i * 3 + 1] = Math.round(f[i * 4 + 1]! * a + 42 * (1 - a));
        slate[i * 3 + 2] = Math.round(f[i * 4 + 2]! * a + 48 * (1 - a));
      }
      await writeFile(`${outDir}/${name}-slate.png`, await encodeImage({ data: slate, width: w, height: h, channels: 3 }, 'png'));
      await writeFile(`${outDir}/${name}-alpha.png`, await encodeImage({ data: res.alpha, width: w, height: h, channels: 1 }, 'png'));
    }
  }
  const mean = (k: 'iou' | 'boundaryF' | 'mae' | 'maeProduct' | 'ms') => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  const min = (k: 'iou' | 'boundaryF') => Math.min(...rows.map((r) => r[k]));
  console.log('');
  console.log('| image | size | IoU | boundary F (3 px) | MAE | MAE product | ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.name} | ${r.size} | ${r.iou.toFixed(4)} | ${r.boundaryF.toFixed(4)} | ${r.mae.toFixed(4)} | ${r.maeProduct.toFixed(4)} | ${r.ms.toFixed(0)} |`);
  console.log(`| **mean** | | ${mean('iou').toFixed(4)} | ${mean('boundaryF').toFixed(4)} | ${mean('mae').toFixed(4)} | ${mean('maeProduct').toFixed(4)} | ${mean('ms').toFixed(0)} |`);
  console.log(`| **min** | | ${min('iou').toFixed(4)} | ${min('boundaryF').toFixed(4)} | | | |`);
  // the issue's targets, over the images this run covered
  const by = (name: string) => rows.find((r) => r.name === name);
  const targets: Array<[string, boolean | undefined]> = [
    ['mean IoU >= 0.98', mean('iou') >= 0.98],
    ['no image below IoU 0.95', min('iou') >= 0.95],
    ['white-on-white IoU >= 0.97', by('white-on-white') && by('white-on-white')!.iou >= 0.97],
    // alpha 1 over the whole glass scores about 0.31 here: the see-through walls must get their fraction
    ['glass MAE over the product <= 0.15', by('glass') && by('glass')!.maeProduct <= 0.15],
  ];
  console.log('');
  for (const [what, ok] of targets) console.log(`${ok === undefined ? 'n/a ' : ok ? 'pass' : 'FAIL'}  ${what}`);
  console.log(`\nmodel load ${modelLoadMs()?.toFixed(0)} ms (once, not in the per-image times)`);
  await cutout.close();
}

await main();
