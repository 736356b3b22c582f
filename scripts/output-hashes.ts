/**
 * `node --import tsx scripts/output-hashes.ts --out FILE.json`: renders a fixed set of engine outputs
 * and writes a JSON map name → sha256, so a change that must not move a pixel can be checked by
 * comparing two such files. Covered: every fixture packshot through the studio path over prompts
 * that between them reach every scene stage (surfaces, backdrops, wisps, window and leaf patterns,
 * reflections, top-down framing, bokeh), in all three output formats; the transparent path; the
 * scene photo, style reference and multi-product paths; a `scene_from` re-render of a plan; and the
 * raw cutout matte and foreground of every fixture from the segmentation model. Each render also
 * hashes its report without the timings. The fixtures' exact mattes stand in for the model in the
 * renders (as in the gallery and the engine bench). Options: --only SUBSTRING (names to run).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, renderPackshot, type FixtureName } from '../test/fixtures/index.js';
import { renderScenePhoto } from '../test/fixtures/scenes.js';
import { createCutout } from '../src/engine/cutout/index.js';
import { decodeImage, initCodec } from '../src/engine/codec.js';
import { transform, type CutoutFn } from '../src/engine/pipeline.js';
import type { TransformRequest, TransformResult } from '../src/engine/types.js';

const PROMPTS: Array<{ name: string; ratio: TransformRequest['aspectRatio']; format: TransformRequest['outputFormat']; prompt: string }> = [
  { name: 'slate-steam', ratio: '1:1', format: 'png', prompt: 'Place this exact white ceramic pour-over dripper on a dark slate stone surface with dramatic side lighting and a soft steam wisp, moody editorial product photography' },
  { name: 'cafe', ratio: '4:3', format: 'jpeg', prompt: 'On a wooden cafe counter with a blurred warm cafe interior behind it, morning light, lifestyle product photography' },
  { name: 'marble', ratio: '4:5', format: 'png', prompt: 'On polished white marble, luxury editorial, soft light from the left with a rim light, elegant reflection, dark gradient backdrop' },
  { name: 'flat-lay', ratio: '1:1', format: 'webp', prompt: 'Flat lay on natural linen, top-down, soft daylight from the upper left, airy' },
  { name: 'night-bokeh', ratio: '16:9', format: 'png', prompt: 'On a wet glossy dark stone ledge, city lights at night with bokeh, cinematic, cool rim light' },
  { name: 'window', ratio: '4:3', format: 'png', prompt: 'On a light oak table, window light from the left casting window frame shadows, airy morning' },
  { name: 'palm', ratio: '4:5', format: 'png', prompt: 'On travertine in front of a terracotta plaster wall, palm leaf shadows, golden hour sun from the right, warm' },
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const keyOf = (w: number, h: number, d: Uint8Array) => `${w}x${h}:${sha256(d)}`;

async function main(): Promise<void> {
  const outFile = arg('out');
  if (!outFile) throw new Error('Expected --out FILE.json');
  const only = arg('only');
  initCodec({ concurrency: 2 });
  const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-hashes-'));
  const hashes: Record<string, string> = {};
  const wanted = (name: string) => only === undefined || name.includes(only);
  const t0 = performance.now();

  // the fixtures' exact mattes, looked up by the decoded pixels the engine hands the cutout (as in
  // the engine's reference tests)
  const mattes = new Map<string, { alpha: Buffer; fg: Buffer }>();
  const cutout: CutoutFn = async (image) => {
    const m = mattes.get(keyOf(image.width, image.height, image.data));
    // a scene photo: nothing in it is a product
    if (!m) return { alpha: Buffer.alloc(image.width * image.height), foreground: { data: Buffer.alloc(image.width * image.height * 4), width: image.width, height: image.height, channels: 4 }, cached: false };
    return { alpha: Buffer.from(m.alpha), foreground: { data: Buffer.from(m.fg), width: image.width, height: image.height, channels: 4 }, cached: true };
  };
  const files: Partial<Record<FixtureName, string>> = {};
  const shots = new Map<FixtureName, Awaited<ReturnType<typeof renderPackshot>>>();
  for (const name of Object.keys(FIXTURES) as FixtureName[]) {
    const shot = await renderPackshot(FIXTURES[name]);
    shots.set(name, shot);
    const file = path.join(dir, `${name}.png`);
    writeFileSync(file, shot.png);
    files[name] = file;
    const decoded = await decodeImage(shot.png, { maxPixels: 1e8 });
    const fg = Buffer.from(decoded.image.data);
    for (let i = 0; i < shot.width * shot.height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
    mattes.set(keyOf(shot.width, shot.height, decoded.image.data), { alpha: Buffer.from(shot.alpha), fg });
  }
  const scenes: Record<string, string> = {};
  for (const name of ['room', 'cool-night'] as const) {
    const s = await renderScenePhoto(name);
    scenes[name] = path.join(dir, `${name}.png`);
    writeFileSync(scenes[name], s.png);
  }

  const record = (name: string, r: TransformResult) => {
    hashes[name] = sha256(r.data);
    const { timings: _timings, ...report } = r.report;
    hashes[`${name}.report`] = sha256(JSON.stringify(report));
  };
  const render = async (name: string, req: Omit<TransformRequest, 'tier' | 'resolution' | 'seed'> & Partial<TransformRequest>) => {
    if (!wanted(name)) return undefined;
    const r = await transform({ tier: 'standard', resolution: '1K', seed: 7, ...req }, { opts: { cacheDir: dir, maskCacheBytes: 0, maxInputPixels: 50e6 }, cutout });
    record(name, r);
    return r;
  };

  // studio path: every fixture over the prompts, one prompt per fixture in turn plus the first for all
  const names = Object.keys(FIXTURES) as FixtureName[];
  for (const [k, fx] of names.entries()) {
    const picks = new Set([0, 1 + (k % (PROMPTS.length - 1)), 1 + ((k + 3) % (PROMPTS.length - 1))]);
    for (const p of [...picks].map((i) => PROMPTS[i]!)) {
      await render(`studio/${fx}/${p.name}`, { prompt: p.prompt, sources: [files[fx]!], aspectRatio: p.ratio, outputFormat: p.format });
    }
  }
  await render('studio/dripper/2K', { prompt: PROMPTS[0]!.prompt, sources: [files.dripper!], aspectRatio: '4:3', resolution: '2K', outputFormat: 'png' });
  await render('studio/mug/seed-8', { prompt: PROMPTS[2]!.prompt, sources: [files.mug!], aspectRatio: '1:1', seed: 8, outputFormat: 'png' });
  await render('studio/bottle/explicit-scene', {
    prompt: 'on a pedestal', sources: [files.bottle!], aspectRatio: '3:4', outputFormat: 'png',
    scene: { surface: { material: 'concrete' }, light: { from: 'right', temperature: 3800 } },
  });

  // transparent path
  for (const fx of ['dripper', 'glass', 'vase'] as const) {
    await render(`transparent/${fx}`, { prompt: PROMPTS[0]!.prompt, sources: [files[fx]!], aspectRatio: '9:16', outputFormat: 'png', background: 'transparent' });
  }
  await render('transparent/can/webp', { prompt: 'catalogue', sources: [files.can!], aspectRatio: '1:1', outputFormat: 'webp', background: 'transparent' });

  // reference paths: a scene photo, a style image, several products, a re-render of a plan (scene_from)
  await render('scene-photo/dripper/room', { tier: 'pro', prompt: 'on the table, soft window light', sources: [files.dripper!, scenes.room!], roles: ['product', 'scene'], aspectRatio: '1:1', outputFormat: 'png' });
  await render('scene-photo/bottle/room-placed', {
    tier: 'pro', prompt: 'on the table', sources: [files.bottle!, scenes.room!], roles: ['product', 'scene'], aspectRatio: '4:3', outputFormat: 'jpeg',
    scene: { placement: { x: 0.3, y: 0.7, height: 0.3 } },
  });
  await render('scene-photo/can/detected', { tier: 'pro', prompt: 'place it in the room', sources: [files.can!, scenes.room!], aspectRatio: '1:1', outputFormat: 'png' });
  await render('style/mug/cool-night', { tier: 'pro', prompt: 'on a plinth', sources: [files.mug!, scenes['cool-night']!], roles: ['product', 'style'], aspectRatio: '1:1', outputFormat: 'png' });
  await render('group/dripper+bottle+can', { tier: 'pro', prompt: 'on a light oak table, soft window light', sources: [files.dripper!, files.bottle!, files.can!], roles: ['product', 'product', 'product'], aspectRatio: '3:2', outputFormat: 'png' });
  const first = await render('scene-from/base', { tier: 'pro', prompt: PROMPTS[5]!.prompt, sources: [files.cup!], aspectRatio: '1:1', outputFormat: 'png' });
  if (first) {
    await render('scene-from/reuse', { tier: 'pro', prompt: 'another angle', sources: [files.box!], basePlan: first.report.plan, planMode: 'reuse', aspectRatio: '1:1', seed: 11, outputFormat: 'png' });
    await render('scene-from/edit', { tier: 'pro', prompt: 'make the light warmer, now on white marble', sources: [files.cup!], basePlan: first.report.plan, planMode: 'edit', aspectRatio: '1:1', outputFormat: 'png' });
  }
  const tRender = performance.now();

  // the segmentation model's raw mattes (no cache)
  if (wanted('cutout/')) {
    const service = createCutout({ cacheDir: '', maskCacheBytes: 0 });
    for (const fx of names) {
      const { image } = await decodeImage(shots.get(fx)!.png, { maxPixels: 1e8 });
      const res = await service.cutout(image);
      hashes[`cutout/${fx}/alpha`] = sha256(res.alpha);
      hashes[`cutout/${fx}/foreground`] = sha256(res.foreground.data);
      hashes[`cutout/${fx}/box`] = sha256(JSON.stringify(res.box));
    }
    await service.close();
  }

  writeFileSync(outFile, `${JSON.stringify(hashes, null, 1)}\n`);
  const tEnd = performance.now();
  console.log(`${Object.keys(hashes).length} hashes → ${outFile} (renders ${((tRender - t0) / 1000).toFixed(1)} s, cutouts ${((tEnd - tRender) / 1000).toFixed(1)} s)`);
}

await main();
