import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createCutout, modelLoadMs } from '../src/engine/cutout/index.js';
import { decodeImage, initSharp } from '../src/engine/sharp.js';

/**
 * `npm run bench:cutout [-- --runs N --size N]`: median uncached and cached cutout time by image
 * size, and peak RSS, with one model session in this process. Images are synthetic packshots
 * (a white dripper on light grey), so runs are reproducible. "cached" is the cutout call on a hit;
 * "crop" is what the engine then reads of it (the RGBA of the product's box), built from the entry.
 * Peak RSS is the kernel's high-water mark (VmHWM), so peaks inside synchronous code count too.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: number) => { const i = args.indexOf(name); return i < 0 ? dflt : Number(args[i + 1]); };
  const runs = opt('--runs', 3);
  const modelSize = opt('--size', 0) || undefined;
  initSharp({ concurrency: 2 });
  // the kernel's high-water mark where there is one; elsewhere samples (which miss short peaks)
  let sampled = process.memoryUsage().rss;
  const timer = setInterval(() => { sampled = Math.max(sampled, process.memoryUsage().rss); }, 20);
  const peakMb = () => {
    try { return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024; } catch { return sampled / 1024 / 1024; }
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'reshoot-bench-'));
  const cutout = createCutout({ cacheDir: path.join(dir, 'masks'), maskCacheBytes: 2 * 1024 ** 3, modelSize });
  const sizes: Array<[string, number, number]> = [['1 MP', 1000, 1000], ['4 MP', 2000, 2000], ['12 MP', 4000, 3000], ['24 MP', 6000, 4000]];
  const rows: string[] = [];
  // load the model outside the timed runs (its load time is reported on its own)
  const warm = Buffer.alloc(64 * 64 * 4, 255);
  await cutout.cutout({ data: warm, width: 64, height: 64, channels: 4 });
  const loadPeak = peakMb();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  for (const [label, w, h] of sizes) {
    const uncached: number[] = [], cached: number[] = [], crops: number[] = [], cpu: number[] = [];
    let steps: Record<string, number> = {};
    for (let r = 0; r < runs; r++) {
      // a different seed each run: different pixels, so the cache never answers the first call.
      // Rendered in a child process so the renderer's memory does not count in this one's peak RSS.
      const file = path.join(dir, `in-${w}-${r}.png`);
      execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/render.ts', file, JSON.stringify({ product: 'dripper', background: 'light-grey', width: w, height: h, seed: 100 + r })]);
      const png = await readFile(file);
      // as the engine does: the decoded pixels are handed over and become the foreground
      const handed = (await decodeImage(png, { maxPixels: 100e6 })).image;
      const c0 = process.cpuUsage();
      let t = performance.now();
      const first = await cutout.cutout(handed, { consume: true });
      uncached.push(performance.now() - t);
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
    const line = `| ${label} (${w}x${h}) | ${median(uncached).toFixed(0)} | ${median(cpu).toFixed(0)} | ${median(cached).toFixed(1)} | ${median(crops).toFixed(1)} | ${peakMb().toFixed(0)} | ${JSON.stringify(steps)} |`;
    rows.push(line);
    console.log(line);
  }
  clearInterval(timer);
  console.log('');
  console.log(`model load: ${modelLoadMs()?.toFixed(0)} ms (once per process), peak RSS after loading and one run: ${loadPeak.toFixed(0)} MB; runs per size: ${runs}`);
  console.log('| size | uncached median ms | CPU ms (all threads) | cached median ms | crop of the product from the cache, median ms | peak RSS so far MB | steps of the last uncached run (ms) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(`\npeak RSS: ${peakMb().toFixed(0)} MB; load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  await cutout.close();
  await rm(dir, { recursive: true, force: true });
}

await main();
