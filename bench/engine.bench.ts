/**
 * `npm run bench:engine`: per-stage median times of the studio engine at 1K, 2K and 4K for the two
 * seed prompts, with the cutout cached (the fixture's matte is handed in, as a mask-cache hit
 * would be), and the process's peak RSS. Targets (on 2 cores): ≤ 400 ms at 1K,
 * ≤ 1.2 s at 2K, ≤ 3 s at 4K; peak RSS ≤ 1.5 GB at 4K. Options: --runs N (default 5); --pro adds
 * the Pro model's rows (1K and 2K, its resolutions; it may take up to 3× the free model's time).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES, renderPackshot } from '../test/fixtures/index.js';
import type { AspectRatio, Resolution } from '../src/contract/models.js';
import { decodeImage, initCodec } from '../src/engine/codec.js';
import { transform, type CutoutFn } from '../src/engine/pipeline.js';

const PROMPTS = [
  'Place this exact white ceramic pour-over dripper on a dark slate stone surface with dramatic side lighting and a soft steam wisp, moody editorial product photography, keep the product shape and color unchanged',
  'Place this exact white ceramic pour-over dripper on a wooden cafe counter with a blurred warm cafe interior behind it, morning light, lifestyle product photography, keep the product shape and color unchanged',
];
const CASES: Array<{ resolution: Resolution; ratio: AspectRatio }> = [
  { resolution: '1K', ratio: '4:3' },
  { resolution: '2K', ratio: '4:3' },
  { resolution: '4K', ratio: '4:3' },
];
const STAGES = ['decode', 'cutout', 'plan', 'layout', 'light', 'scene', 'compose', 'fidelity', 'encode', 'total'];

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
  initCodec({ concurrency: 2 });
  const dir = mkdtempSync(path.join(tmpdir(), 'reshoot-bench-'));
  const shot = await renderPackshot(FIXTURES.dripper);
  const file = path.join(dir, 'dripper.png');
  writeFileSync(file, shot.png);
  const decoded = await decodeImage(shot.png, { maxPixels: 1e8 });
  const fg = Buffer.from(decoded.image.data);
  for (let i = 0; i < shot.width * shot.height; i++) fg[i * 4 + 3] = shot.alpha[i]!;
  const cutout: CutoutFn = async () => ({ alpha: Buffer.from(shot.alpha), foreground: { data: fg, width: shot.width, height: shot.height, channels: 4 }, cached: true });
  const opts = { cacheDir: dir, maskCacheBytes: 0, maxInputPixels: 50e6 };

  console.log(`studio engine, dripper fixture ${shot.width}x${shot.height}, cutout cached, PNG out, median of ${runs} runs per prompt (ms)\n`);
  console.log(['res', 'size', ...STAGES, 'cpu'].map((s) => s.padStart(8)).join(' '));
  const pro = process.argv.includes('--pro');
  const cases = [...CASES.map((c) => ({ ...c, tier: 'standard' as const })), ...(pro ? CASES.filter((c) => c.resolution !== '4K').map((c) => ({ ...c, tier: 'pro' as const })) : [])];
  for (const c of cases) {
    const samples: Record<string, number[]> = Object.fromEntries(STAGES.map((s) => [s, []]));
    // CPU time of the whole process (JS + libvips threads): unlike wall time it barely moves when
    // other work shares the machine, so it is the figure to compare between runs
    const cpuMs: number[] = [];
    let size = '';
    for (const [k, prompt] of PROMPTS.entries()) {
      const req = { tier: c.tier, prompt, sources: [file], aspectRatio: c.ratio, resolution: c.resolution, seed: 7 + k, outputFormat: 'png' as const };
      await transform(req, { opts, cutout }); // warm-up
      for (let i = 0; i < runs; i++) {
        const cpu0 = process.cpuUsage();
        const r = await transform(req, { opts, cutout });
        const cpu = process.cpuUsage(cpu0);
        cpuMs.push((cpu.user + cpu.system) / 1000);
        size = `${r.width}x${r.height}`;
        for (const s of STAGES) samples[s]!.push(r.report.timings[s] ?? 0);
      }
    }
    console.log([`${c.resolution}${c.tier === 'pro' ? ' pro' : ''}`, size, ...STAGES.map((s) => median(samples[s]!).toFixed(0)), median(cpuMs).toFixed(0)].map((s) => s.padStart(8)).join(' '));
  }
  console.log(`\nstage columns and total: wall-clock medians; cpu: process CPU time per transform (all threads); load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

await main();
