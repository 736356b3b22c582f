import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createCutout, DEFAULT_MODEL_SIZE, modelLoadMs } from '../src/engine/cutout/index.js';
import { loadSegmenter } from '../src/engine/cutout/session.js';
import { decodeImage, initCodec, resize } from '../src/engine/codec.js';

/**
 * `npm run bench:cutout [-- --runs N --size N]`: median uncached and cached cutout time by image
 * size, and peak RSS, with one model session in this process. Images are synthetic packshots
 * (a white dripper on light grey), so runs are reproducible. "cached" is the cutout call on a hit;
 * "crop" is what the engine then reads of it (the RGBA of the product's box), built from the entry.
 * Peak RSS is the kernel's high-water mark (VmHWM), so peaks inside synchronous code count too.
 *
 * Every input is rendered (in child processes, so the renderer's memory stays out of this process's
 * peak) before the model loads. A fork between timed runs distorts them: the memory this process keeps
 * for reuse is then copy-on-write, a 12 MP run took 107K page faults instead of 77K, and its matte steps
 * measured 2-3x slower (fuse 45 -> 150 ms, refine 120 -> 250 ms), which the service, forking nothing,
 * never sees.
 *
 * The model is loaded as the service loads it, from the optimised copy in a model cache folder. That
 * copy is made first, by a process of its own (`--first-start DIR`), whose time and peak are reported
 * as what the first start on a machine costs.
 *
 * The table's peak RSS includes the cache checks, which hold a second decode of each image and two
 * results at once. What a worker making cutouts needs is measured apart, in a process that does only
 * that (`--uncached-only FILE...`: decode, cutout, crop of the product, as the engine does, per file).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: number) => { const i = args.indexOf(name); return i < 0 ? dflt : Number(args[i + 1]); };
  const runs = opt('--runs', 3);
  const modelSize = opt('--size', 0) || undefined;
  // the kernel's high-water mark where there is one; elsewhere samples (which miss short peaks)
  let sampled = process.memoryUsage().rss;
  const timer = setInterval(() => { sampled = Math.max(sampled, process.memoryUsage().rss); }, 20);
  const peakMb = () => {
    try { return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024; } catch { return sampled / 1024 / 1024; }
  };
  const firstAt = args.indexOf('--first-start');
  if (firstAt >= 0) {
    // a child's whole job: make the optimised model in the folder, report what that cost, and exit
    const t = performance.now();
    const s = await loadSegmenter({ size: modelSize ?? DEFAULT_MODEL_SIZE, cacheDir: args[firstAt + 1] });
    console.log(JSON.stringify({ ms: performance.now() - t, peakMb: peakMb() }));
    await s.close();
    clearInterval(timer);
    return;
  }
  initCodec({ concurrency: 2 });
  const onlyAt = args.indexOf('--uncached-only');
  if (onlyAt >= 0) {
    const [modelDir, masksDir, ...files] = args.slice(onlyAt + 1);
    const c = createCutout({ cacheDir: masksDir!, maskCacheBytes: 2 * 1024 ** 3, modelSize, modelCacheDir: modelDir });
    await c.cutout({ data: Buffer.alloc(64 * 64 * 4, 255), width: 64, height: 64, channels: 4 });
    const loaded = peakMb();
    for (const f of files) {
      const { image } = await decodeImage(await readFile(f), { maxPixels: 100e6 });
      const res = await c.cutout(image, { consume: true });
      if (res.cached) throw new Error(`Expected ${f} to miss the cache but it hit`);
      res.crop();
      await c.idle();
    }
    console.log(JSON.stringify({ loaded, peakMb: peakMb() }));
    await c.close();
    clearInterval(timer);
    return;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'reshoot-bench-'));
  const modelCacheDir = path.join(dir, 'models');
  const firstStart = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/cutout.bench.ts', '--first-start', modelCacheDir, ...(modelSize ? ['--size', String(modelSize)] : [])], { encoding: 'utf8' })) as { ms: number; peakMb: number };
  const sizes: Array<[string, number, number]> = [['1 MP', 1000, 1000], ['4 MP', 2000, 2000], ['12 MP', 4000, 3000], ['24 MP', 6000, 4000]];
  // a different seed each run: different pixels, so the cache never answers the first call
  const input = (w: number, r: number) => path.join(dir, `in-${w}-${r}.png`);
  for (const [, w, h] of sizes) {
    for (let r = 0; r < runs; r++) {
      execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/render.ts', input(w, r), JSON.stringify({ product: 'dripper', background: 'light-grey', width: w, height: h, seed: 100 + r })]);
    }
  }
  const cutout = createCutout({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 2 * 1024 ** 3, modelSize, modelCacheDir });
  const rows: string[] = [];
  // load the model outside the timed runs (its load time is reported on its own)
  const warm = Buffer.alloc(64 * 64 * 4, 255);
  await cutout.cutout({ data: warm, width: 64, height: 64, channels: 4 });
  const loadPeak = peakMb();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  // the raw model's own inference on the same session, timed right before each uncached cutout (the
  // machine's load drifts; a pair shares it): the yardstick of the uncached cutout
  const seg = await loadSegmenter({ size: modelSize ?? DEFAULT_MODEL_SIZE, cacheDir: modelCacheDir });
  const rawMs: number[] = [];
  for (const [label, w, h] of sizes) {
    const uncached: number[] = [], cached: number[] = [], crops: number[] = [], cpu: number[] = [], ratios: number[] = [];
    let steps: Record<string, number> = {};
    for (let r = 0; r < runs; r++) {
      const png = await readFile(input(w, r));
      // as the engine does: the decoded pixels are handed over and become the foreground
      const handed = (await decodeImage(png, { maxPixels: 100e6 })).image;
      const modelInput = (await resize(handed, seg.size, seg.size)).data;
      const tr = performance.now();
      await seg.run(modelInput);
      const rawRun = performance.now() - tr;
      rawMs.push(rawRun);
      const c0 = process.cpuUsage();
      let t = performance.now();
      const first = await cutout.cutout(handed, { consume: true });
      uncached.push(performance.now() - t);
      ratios.push(uncached[uncached.length - 1]! / rawRun);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      // the cache entry is written after the call returns; time that apart and keep it out of the hit
      t = performance.now();
      await cutout.idle();
      steps = { ...first.timings, 'store (after return)': Math.round((performance.now() - t) * 10) / 10 };
      const computed = first.crop().data;
      const { image } = await decodeImage(png, { maxPixels: 100e6 });
      t = performance.now();
      const again = await cutout.cutout(image);
      cached.push(performance.now() - t);
      if (!again.cached) throw new Error('Expected the repeat to come from the cache but it did not');
      t = performance.now();
      const crop = again.crop();
      crops.push(performance.now() - t);
      if (!crop.data.equals(computed)) throw new Error('Expected the cached crop to equal the computed one but it differs');
    }
    const line = `| ${label} (${w}x${h}) | ${median(uncached).toFixed(0)} | ${median(ratios).toFixed(2)} | ${median(cpu).toFixed(0)} | ${median(cached).toFixed(1)} | ${median(crops).toFixed(1)} | ${peakMb().toFixed(0)} | ${JSON.stringify(steps)} |`;
    rows.push(line);
    console.log(line);
  }
  clearInterval(timer);
  console.log('');
  console.log(`first start on a machine (prepares and optimises the model into the cache, a process of its own): ${firstStart.ms.toFixed(0)} ms, peak RSS ${firstStart.peakMb.toFixed(0)} MB`);
  console.log(`model load: ${modelLoadMs()?.toFixed(0)} ms (once per process), peak RSS after loading and one run: ${loadPeak.toFixed(0)} MB; runs per size: ${runs}`);
  console.log(`the raw model's inference alone (${seg.size}x${seg.size}, same session, timed before each uncached run): median ${median(rawMs).toFixed(0)} ms`);
  console.log('| size | uncached median ms | ÷ the raw inference just before it, median | CPU ms (all threads) | cached median ms | crop of the product from the cache, median ms | peak RSS so far MB | steps of the last uncached run (ms) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(`\npeak RSS: ${peakMb().toFixed(0)} MB`);
  for (const [label, w] of sizes.slice(2)) {
    // fresh cache folders: each file misses
    const files = Array.from({ length: runs }, (_, r) => input(w, r));
    const only = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/cutout.bench.ts', ...(modelSize ? ['--size', String(modelSize)] : []), '--uncached-only', modelCacheDir, path.join(dir, `masks-only-${w}`), ...files], { encoding: 'utf8' })) as { loaded: number; peakMb: number };
    console.log(`peak RSS of a process making ${runs} uncached ${label} cutouts and nothing else: ${only.peakMb.toFixed(0)} MB (${only.loaded.toFixed(0)} MB once the model is loaded)`);
  }
  console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  await cutout.close();
  await rm(dir, { recursive: true, force: true });
}

await main();
