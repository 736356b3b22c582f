import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import type { GuardReport } from '../../engine/cutout/matte.js';
import { eprintln, println } from '../shared.js';

interface CutoutFlags {
  out?: string;
  outDir?: string;
  format: string;
  json?: boolean;
}

/** `reshoot cutout IMAGE... (--out FILE | --out-dir DIR) [--format alpha|rgba] [--json]` */
export function register(program: Command): void {
  program
    .command('cutout')
    .description('Cut the product out of packshots: a matte (alpha) or the cut-out product (rgba), as PNG at the source size')
    .argument('<images...>', 'JPEG, PNG, WebP, AVIF or TIFF files')
    .option('--out <file>', 'output PNG (one image only)')
    .option('--out-dir <dir>', 'output folder: NAME.png for each input')
    .option('--format <format>', 'alpha (single-channel matte) | rgba (cut-out product)', 'alpha')
    .option('--json', 'one JSON object per image: output path, cache hit, ms per step')
    .action(async (images: string[], flags: CutoutFlags) => {
      process.exitCode = await runCutout(images, flags);
    });
}

async function runCutout(images: string[], flags: CutoutFlags): Promise<number> {
  if (flags.format !== 'alpha' && flags.format !== 'rgba') {
    eprintln(`--format: expected alpha or rgba but received ${flags.format}`);
    return 2;
  }
  if (!flags.out === !flags.outDir) {
    eprintln('give exactly one of --out FILE or --out-dir DIR');
    return 2;
  }
  if (flags.out && images.length > 1) {
    eprintln(`--out takes one image but ${images.length} were given; use --out-dir`);
    return 2;
  }
  const config = loadConfig();
  const [{ createCutout, guardShares, modelLoadMs }, { decodeImage, encodeImage, initCodec: initSharp }] = await Promise.all([
    import('../../engine/cutout/index.js'),
    import('../../engine/codec.js'),
  ]);
  initSharp();
  const cutout = createCutout({ cacheDir: path.join(config.dataDir, 'cache', 'masks'), maskCacheBytes: config.engine.maskCacheBytes, modelCacheDir: config.engine.modelCacheDir, modelSize: config.engine.modelSize, sceneModelSize: config.engine.sceneModelSize, modelPath: config.engine.modelPath });
  let failed = 0;
  let loadReported = false;
  try {
    for (const image of images) {
      const out = flags.out ? path.resolve(flags.out) : path.resolve(flags.outDir!, `${path.basename(image).replace(/\.[^.]+$/, '')}.png`);
      try {
        const t0 = performance.now();
        const decoded = await decodeImage(await readFile(image), { maxPixels: config.engine.maxInputPixels });
        const decodeMs = performance.now() - t0;
        const { width, height } = decoded.image;
        // only the size is read afterwards, so the decoded pixels may become the foreground
        const res = await cutout.cutout(decoded.image, { hasAlpha: decoded.hasAlpha, consume: true });
        const png = flags.format === 'alpha'
          ? await encodeImage({ data: res.alpha, width, height, channels: 1 }, 'png')
          : await encodeImage(res.foreground, 'png');
        await mkdir(path.dirname(out), { recursive: true });
        await writeFile(out, png);
        const ms = Math.round(performance.now() - t0);
        const load = modelLoadMs();
        if (flags.json) {
          if (load !== null && !loadReported) println(JSON.stringify({ modelLoadMs: Math.round(load), modelSize: config.engine.modelSize }));
          const timings: Record<string, number> = { decode: Math.round(decodeMs * 10) / 10, ...res.timings };
          delete timings.load; // reported once, above
          // what the matte changed of the model's confident answer: the first thing to look at when a matte goes wrong
          println(JSON.stringify({ input: image, out, width, height, cached: res.cached, ms, timings, ...(res.guard ? { model: guardFigures(res.guard, guardShares(res.guard)) } : {}) }));
        } else {
          if (load !== null && !loadReported) println(`model loaded in ${(load / 1000).toFixed(2)} s`);
          println(`${out}  ${width}x${height}  ${res.cached ? 'cached' : 'computed'}  ${(ms / 1000).toFixed(2)} s`);
        }
        if (load !== null) loadReported = true;
      } catch (err) {
        failed++;
        const msg = err instanceof Error ? err.message : String(err);
        if (flags.json) println(JSON.stringify({ input: image, error: msg }));
        eprintln(`${image}: ${msg}`);
      }
    }
  } finally {
    await cutout.close();
  }
  return failed ? 1 : 0;
}

/** The guard's counts as the JSON line reports them: pixels, and the shares of the model's confident answer. */
function guardFigures(g: GuardReport, shares: { removed: number; added: number }): Record<string, number> {
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    confidentForeground: g.confidentForeground,
    confidentBackground: g.confidentBackground,
    removed: g.removed,
    added: g.added,
    restored: g.restored,
    removedShare: round(shares.removed),
    addedShare: round(shares.added),
  };
}
