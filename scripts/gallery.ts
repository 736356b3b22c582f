/**
 * `npm run gallery`: renders the fixture packshots × the gallery's prompts into one HTML contact
 * sheet (gallery/index.html), the source beside each result. The fixtures' exact mattes stand in
 * for the segmentation model unless `--engine-cutout` is given, so the sheet shows the studio
 * itself. Options: --fixtures a,b  --only N,M (prompt numbers)  --resolution 1K|2K  --engine-cutout
 * --scene JSON (explicit settings for every prompt)  --seed N  --model free|pro  --out DIR
 * --before DIR (earlier renders of the same files, shown beside each result: render them by running
 * this script from an older checkout with --out DIR)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, renderPackshot, type FixtureName } from '../test/fixtures/index.js';
import type { AspectRatio, Resolution } from '../src/contract/models.js';
import { SceneOverrideSchema } from '../src/contract/scene.js';
import { createEngine } from '../src/engine/index.js';
import { decodeImage, encodeImage, initCodec, resize } from '../src/engine/codec.js';
import { transform, type CutoutFn } from '../src/engine/pipeline.js';

export const GALLERY_PROMPTS: Array<{ name: string; ratio: AspectRatio; prompt: string }> = [
  { name: 'editorial slate', ratio: '1:1', prompt: 'Place this exact white ceramic pour-over dripper on a dark slate stone surface with dramatic side lighting and a soft steam wisp, moody editorial product photography, keep the product shape and color unchanged' },
  { name: 'cafe counter', ratio: '4:3', prompt: 'Place this exact white ceramic pour-over dripper on a wooden cafe counter with a blurred warm cafe interior behind it, morning light, lifestyle product photography, keep the product shape and color unchanged' },
  { name: 'marble luxury', ratio: '4:5', prompt: 'On polished white marble, luxury editorial, soft light from the left with a rim light, elegant reflection, dark gradient backdrop' },
  { name: 'concrete minimal', ratio: '1:1', prompt: 'On raw concrete against a plaster wall, minimal and clean, soft diffused light from the right' },
  { name: 'pastel sweep', ratio: '4:5', prompt: 'On a pastel pink seamless sweep, soft high-key studio light, catalogue shot' },
  { name: 'beach', ratio: '3:2', prompt: 'On sand at the beach, bright summer sun, blurred sea behind, lifestyle' },
  { name: 'kitchen', ratio: '4:3', prompt: 'On a marble kitchen counter in a bright home kitchen, morning light from the left, blurred background' },
  { name: 'flat lay', ratio: '1:1', prompt: 'Flat lay on natural linen, top-down, soft daylight from the upper left, airy' },
  { name: 'night city bokeh', ratio: '16:9', prompt: 'On a wet glossy dark stone ledge, city lights at night with bokeh, cinematic, cool rim light' },
  { name: 'window light', ratio: '4:3', prompt: 'On a light oak table, window light from the left casting window frame shadows, airy morning' },
  { name: 'top light', ratio: '4:5', prompt: 'On dark concrete, dramatic top light spotlight, low-key, hard shadows' },
  { name: 'palm leaf shadows', ratio: '4:5', prompt: 'On travertine in front of a terracotta plaster wall, palm leaf shadows, golden hour sun from the right, warm' },
  { name: 'workshop', ratio: '4:3', prompt: 'On a worn wooden workbench in a workshop, warm light from the left, blurred background, lifestyle' },
  { name: 'park golden hour', ratio: '3:2', prompt: 'On a stone ledge outdoors in a park at golden hour, blurred background, lifestyle' },
  { name: 'hotel lobby', ratio: '4:5', prompt: 'On a marble table in a hotel lobby, soft light, blurred background, luxury lifestyle' },
  { name: 'living room evening', ratio: '4:3', prompt: 'On a wooden coffee table in a cozy living room, warm evening light, blurred background' },
  { name: 'office', ratio: '16:9', prompt: 'On a light oak desk in a bright office, natural daylight from the left, blurred background' },
  { name: 'hard side light', ratio: '4:5', prompt: 'On black concrete, hard side light from the right, moody, dark backdrop' },
  { name: 'city street', ratio: '3:2', prompt: 'On concrete in a city street, blurred background, urban lifestyle' },
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  initCodec({});
  const out = path.resolve(arg('out') ?? 'gallery');
  const before = arg('before');
  const tier = arg('model') === 'pro' ? 'pro' as const : 'standard' as const;
  mkdirSync(out, { recursive: true });
  const fixtures = (arg('fixtures')?.split(',') ?? ['dripper', 'mug', 'bottle', 'vase']) as FixtureName[];
  const only = arg('only')?.split(',').map(Number);
  const resolution = (arg('resolution') ?? '1K') as Resolution;
  const sceneArg = arg('scene');
  // checked as input.scene is, so a typo in --scene names its field instead of being ignored
  const scene = sceneArg === undefined ? undefined : SceneOverrideSchema.parse(JSON.parse(sceneArg));
  const seed = Number(arg('seed') ?? 7);
  const useEngineCutout = process.argv.includes('--engine-cutout');
  const engine = useEngineCutout ? createEngine({ cacheDir: path.join(out, '.cache'), maskCacheBytes: 256e6, maxInputPixels: 50e6 }) : null;
  const opts = { cacheDir: path.join(out, '.cache'), maskCacheBytes: 0, maxInputPixels: 50e6 };
  const rows: string[] = [];
  for (const fx of fixtures) {
    const shot = await renderPackshot(FIXTURES[fx]);
    const srcFile = path.join(out, `${fx}-source.png`);
    writeFileSync(srcFile, shot.png);
    const decoded = await decodeImage(shot.png, { maxPixels: 1e8 });
    const thumb = await resize(decoded.image, 240, Math.round((shot.height * 240) / shot.width));
    writeFileSync(path.join(out, `${fx}-source.jpg`), await encodeImage(thumb, 'jpeg', { quality: 85 }));
    const fg = Buffer.from(decoded.image.data);
    for (let i = 0; i < shot.width * shot.height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
    const cutout: CutoutFn = async () => ({ alpha: Buffer.from(shot.alpha), foreground: { data: fg, width: shot.width, height: shot.height, channels: 4 }, cached: true });
    for (const [k, p] of GALLERY_PROMPTS.entries()) {
      if (only && !only.includes(k + 1)) continue;
      const req = { tier, prompt: p.prompt, sources: [srcFile], aspectRatio: p.ratio, resolution, seed, outputFormat: 'jpeg' as const, ...(scene === undefined ? {} : { scene }) };
      const r = engine ? await engine.transform(req) : await transform(req, { opts, cutout });
      const file = `${fx}-${String(k + 1).padStart(2, '0')}.jpg`;
      writeFileSync(path.join(out, file), r.data);
      const f = r.report.fidelity;
      // how much of the frame the product fills (height and width shares): the framing at a glance
      const fill = `${(r.report.placement.height / r.height).toFixed(2)}h ${(r.report.placement.width / r.width).toFixed(2)}w`;
      console.log(`${fx} #${k + 1} ${p.name}: ${r.width}x${r.height} ${r.report.timings.total} ms, fill ${fill}, ΔE ${f.deltaE.mean}/${f.deltaE.p95} (unlit ${f.deltaEUnlit?.mean}/${f.deltaEUnlit?.p95})`);
      const was = before && existsSync(path.join(before, file)) ? `<img class="out before" src="${path.relative(out, path.join(before, file))}" title="before">` : '';
      rows.push(`<figure><div class="pair"><img class="src" src="${fx}-source.jpg">${was}<img class="out" src="${file}"></div>` +
        `<figcaption><b>${fx} · ${k + 1}. ${p.name}</b> (${p.ratio}, ${r.width}×${r.height}, ${r.report.timings.total} ms, fill ${fill}, ΔE2000 ${f.deltaE.mean} / p95 ${f.deltaE.p95}, unlit ${f.deltaEUnlit?.mean})<br>${escape(p.prompt)}` +
        `<br><small>unused: ${escape((r.report.plan as { words: { unused: string[] } }).words.unused.join(', ') || '-')}</small></figcaption></figure>`);
    }
  }
  await engine?.close();
  writeFileSync(path.join(out, 'index.html'), `<!doctype html><meta charset="utf-8"><title>reshoot studio gallery</title>
<style>body{font:14px system-ui;background:#111;color:#ddd;margin:24px}figure{display:inline-block;vertical-align:top;margin:0 18px 28px 0;max-width:1200px}
.pair{display:flex;gap:8px;align-items:flex-start}.src{width:160px;border:1px solid #333}.out{max-width:580px;max-height:560px}.before{max-width:420px;opacity:.9}figcaption{margin-top:6px;color:#aaa}b{color:#eee}</style>
<h1>reshoot studio — fixtures × prompts</h1>${rows.join('\n')}`);
  console.log(`wrote ${path.join(out, 'index.html')}`);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

await main();
