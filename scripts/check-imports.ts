/**
 * `node --import tsx scripts/check-imports.ts`: lists the imports between the engine's stages and
 * fails (exit 1) on one that runs backwards, on one from the engine into the server (api, tasks,
 * store, queue, worker) and on one from the worker into the api. The engine's order, earliest first:
 * a unit may import its own files and any earlier unit, never a later one. Test files are left out.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve('src');
const ENGINE_ORDER = [
  'engine/raster', // typed rasters, colour tables, noise, crops
  'engine/hash.ts',
  'engine/types.ts',
  'engine/codec.ts', // the one file that imports sharp
  'engine/inputs',
  'engine/cutout',
  'engine/refs',
  'engine/scene',
  'engine/light',
  'engine/fidelity.ts',
  'engine/lock', // product lock: find the product in an upstream's frame, paste the original back
  'engine/compose', // framing, compositing, the recipes that run the stages above
  'engine/pipeline.ts',
  'engine/index.ts',
];
const SERVER = ['api', 'tasks', 'store', 'queue', 'worker'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The unit a file belongs to: an engine stage, or the top-level folder (or file) under src/. */
function unitOf(file: string): string {
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  const parts = rel.split('/');
  if (parts[0] === 'engine' && parts.length > 1) return `engine/${parts[1]}`;
  return parts[0]!;
}

const edges = new Map<string, number>();
const problems: string[] = [];
for (const file of files(ROOT)) {
  const from = unitOf(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
    const target = path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    const to = unitOf(target);
    if (to === from) continue;
    const key = `${from} → ${to}`;
    edges.set(key, (edges.get(key) ?? 0) + 1);
    const where = `${path.relative(process.cwd(), file)} imports ${m[1]}`;
    const fi = ENGINE_ORDER.indexOf(from);
    const ti = ENGINE_ORDER.indexOf(to);
    if (fi >= 0 && ti > fi) problems.push(`backwards (${key}): ${where}`);
    if (from.startsWith('engine/') && SERVER.includes(to)) problems.push(`engine into the server (${key}): ${where}`);
    if (from === 'worker' && to === 'api') problems.push(`worker into the api: ${where}`);
  }
}

const engineEdges = [...edges].filter(([k]) => k.startsWith('engine/')).sort(([a], [b]) => a.localeCompare(b));
console.log('imports from engine units (import statements):');
for (const [k, n] of engineEdges) console.log(`  ${k}  ${n}`);
const workerEdges = [...edges].filter(([k]) => k.startsWith('worker →')).map(([k]) => k.slice('worker → '.length));
console.log(`worker imports: ${workerEdges.sort().join(', ')}`);
if (problems.length > 0) {
  console.log(`\n${problems.length} import(s) against the order:`);
  for (const p of problems) console.log(`  ${p}`);
  process.exit(1);
}
console.log('\nno engine stage imports a later one; the engine imports nothing of the server; the worker imports nothing of the api');
