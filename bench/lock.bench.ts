// `npm run bench -- lock`: the product lock (src/engine/lock) on drifted frames at 1K and 4K —
// find the product, read its silhouette, paste it back — median and worst of a few runs per case,
// against the targets of 150 ms at 1K and 600 ms at 4K. The frames come from the drift generator
// the tests use (test/fakes/drift.ts); the bottle fixture takes about 55 % of the frame's height.
import os from 'node:os';
import { DRIFTS, driftFrame, fixtureProduct } from '../test/fakes/drift.js';
import { alignProduct, lockProduct, transformDistance } from '../src/engine/lock/index.js';
import { printTable } from './table.js';

const RUNS = 5;
/**
 * Locks run first, untimed but for the very first (reported apart as "cold", wall and CPU): a worker
 * locks result after result, and V8 optimises the lock's loops only after the first few (on this
 * machine, quiet, the first 1K lock takes about 350-400 ms wall and 570-670 CPU ms, the second about
 * 290, from the third on 110-150).
 */
const WARMUP = 5;
const CASES = [
  { label: '1K', side: 1024, target: 150 },
  { label: '4K', side: 4096, target: 600 },
];
const drift = DRIFTS[2]!; // scaled down, rotated, darker, label blurred

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const rows: string[][] = [];
for (const c of CASES) {
  const product = await fixtureProduct('bottle', Math.round(c.side * 0.55));
  const box = { x: Math.round(c.side / 2 - product.width / 2), y: Math.round(c.side * 0.2), width: product.width, height: product.height };
  const { generated, truth } = await driftFrame(product, box, { width: c.side, height: c.side }, drift);
  const align: number[] = [];
  const total: number[] = [];
  const cpu: number[] = [];
  let err = 0;
  let dE = 0;
  let cold = 0, coldCpu = 0;
  for (let i = 0; i < WARMUP; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    lockProduct({ generated, product, box, mode: 'strict' });
    if (i === 0) {
      cold = performance.now() - t0;
      const c = process.cpuUsage(c0);
      coldCpu = (c.user + c.system) / 1000;
    }
  }
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    alignProduct(product, box, generated);
    align.push(performance.now() - t0);
    t0 = performance.now();
    const c0 = process.cpuUsage();
    const { report } = lockProduct({ generated, product, box, mode: 'strict' });
    total.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    err = transformDistance(report.transform, truth, box);
    dE = report.deltaE.after;
  }
  rows.push([
    c.label, `${box.width}×${box.height}`, cold.toFixed(0), coldCpu.toFixed(0), median(align).toFixed(0), median(total).toFixed(0), Math.max(...total).toFixed(0), median(cpu).toFixed(0),
    String(c.target), median(total) <= c.target ? 'yes' : 'no', err.toFixed(2), dE.toFixed(2),
  ]);
}
console.log('CPU ms: the process\'s CPU time per lock (the lock runs on the calling thread; V8\'s compiler and garbage-collection threads count too, so it can exceed the wall clock, most in the first locks while V8 compiles the lock\'s loops), which the other load on the machine does not inflate as the wall clock');
console.log(`product lock, ${RUNS} runs per size, ${os.cpus().length} cores (load ${os.loadavg()[0]!.toFixed(1)}), drift "${drift.name}"`);
console.log(`first lock ms: the first lock of each size (code not yet optimised by V8 at 1K), before ${WARMUP - 1} more untimed ones; the other columns are the ${RUNS} locks after them`);
printTable(['frame', 'product', 'first lock ms', 'first lock CPU ms', 'align ms (median)', 'lock ms (median)', 'lock ms (worst)', 'lock CPU ms (median)', 'target ms', 'met', 'error px', 'ΔE76 after'], rows);
