import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { engineOptions, loadConfig, type Config } from '../../config.js';
import type { EngineOptions } from '../../engine/types.js';
import { MODELS, ROUTES } from '../../contract/models.js';
import { priceFor } from '../../contract/pricing.js';
import type { Client, TaskObject } from '../../sdk/index.js';
import { loadPricing } from '../../tasks/pricing.js';
import { collectJobs, interleaveByImage, readPromptsFile, type BatchItem, type BatchOptions } from '../batch/jobs.js';
import type { Executor } from '../batch/executors.js';
import { createProgressBar, formatDuration, type ProgressCounts } from '../batch/progress.js';
import { appendState, lockDir, readState, removePartials, STATE_FILE } from '../batch/state.js';
import { lookupThroughput, recordThroughput } from '../batch/throughput.js';
import {
  DEFAULT_MODEL,
  addRemoteOptions,
  clientFrom,
  eprintln,
  localRequest,
  parseIntFlag,
  println,
  requireFiles,
  type RemoteFlags,
} from '../shared.js';

interface BatchFlags extends RemoteFlags {
  out?: string;
  prompt: string[];
  prompts?: string;
  aspectRatio?: string[];
  resolution?: string;
  model: string;
  seed?: number;
  background?: string;
  format?: string;
  concurrency?: number;
  dryRun?: boolean;
  json?: boolean;
  timeout: number;
  route?: string;
  lock?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface Outcome {
  item: BatchItem;
  status: 'done' | 'failed';
  ms: number;
  error?: string;
  taskId?: string;
  /** the server's task (done or failed): its report carries the engine, the lock figures and a fallback */
  task?: TaskObject;
}

/** A strict product lock's refusal: the upstream changed the product (engine/lock's reasons start so). */
const lockRefused = (o: Outcome): boolean => o.status === 'failed' && (o.task?.error?.message ?? '').startsWith('product lock:');

/** What a generative engine's report says about an item: the engine, the lock's figures, a studio fallback. */
function reportOf(task: TaskObject | undefined): Record<string, unknown> | undefined {
  const r = task?.reshoot;
  if (!r || (!r.lock && !r.fallback)) return undefined;
  return { engine: r.engine, ...(r.lock ? { lock: r.lock } : {}), ...(r.fallback ? { fallback: r.fallback } : {}) };
}

/** The item as the user gave it: input file, prompt and ratio. */
const itemLabel = (i: BatchItem): string => `${path.basename(i.image.split('?')[0]!)} "${i.prompt}" ${i.input?.aspect_ratio ?? i.aspectRatio ?? ''}`.trimEnd();

/** `n thing` or `n things`. */
const count = (n: number, thing: string) => `${n} ${thing}${n === 1 ? '' : 's'}`;

function itemLine(o: Outcome, outDir: string, flags: Pick<BatchFlags, 'route' | 'lock'>): string {
  const line: Record<string, unknown> = {
    type: 'item',
    status: o.status,
    key: o.item.key,
    image: o.item.image,
    name: o.item.name,
    prompt: o.item.prompt,
    aspect_ratio: o.item.input?.aspect_ratio ?? o.item.aspectRatio ?? null,
    resolution: o.item.input?.resolution ?? o.item.resolution ?? null,
    out: path.join(outDir, o.item.out),
    ms: Math.round(o.ms),
  };
  if (flags.route) line.route = flags.route;
  if (flags.lock) line.lock = flags.lock;
  if (o.taskId) line.taskId = o.taskId;
  if (o.error) line.error = o.error;
  // the task's own reason (a strict lock's refusal says how the upstream changed the product)
  if (o.task?.error) line.reason = o.task.error;
  if (lockRefused(o)) line.lockRefused = true;
  const report = reportOf(o.task);
  if (report) line.report = report;
  return JSON.stringify(line);
}

/** `images × prompts × ratios` as the user would say it. */
function shape(items: BatchItem[]): string {
  const n = (f: (i: BatchItem) => string) => new Set(items.map(f)).size;
  return `${count(n((i) => i.image), 'image')} × ${count(n((i) => i.prompt), 'prompt')} × ${count(n((i) => i.input?.aspect_ratio ?? i.aspectRatio ?? ''), 'ratio')}`;
}

async function quote(items: BatchItem[], todo: BatchItem[], flags: BatchFlags, client: Client | null, config: Config, parallel: number): Promise<void> {
  // cost
  // A server's rows are its prices (the registry's only for a model they do not name); locally
  // RESHOOT_PRICING over the registry, exactly as `reshoot serve` would price.
  let price: (input: Record<string, unknown>) => number;
  let priceSource = 'model registry defaults';
  const registryPrice = MODELS[flags.model]?.priceUsd ?? 0;
  if (client) {
    try {
      const rows = await client.pricing();
      // the route's own row (model@route) where the server serves one: what a generative route is charged
      price = (input) => priceFor(rows, flags.model, input, flags.route) ?? registryPrice;
      priceSource = `${client.baseUrl}/api/pricing`;
    } catch (err) {
      price = () => registryPrice;
      priceSource = `model registry defaults (${client.baseUrl}/api/pricing: ${(err as Error).message})`;
    }
  } else {
    const pricing = loadPricing(config.pricing);
    price = (input) => pricing.price(flags.model, input, flags.route);
    if (config.pricing) priceSource = 'RESHOOT_PRICING';
  }
  const byModel = new Map<string, { items: number; usd: number }>();
  // every item was checked before the quote (runBatch refuses a batch with an invalid one)
  const valid = todo.filter((i) => i.input);
  for (const item of valid) {
    const usd = price(item.input as unknown as Record<string, unknown>);
    const m = byModel.get(flags.model) ?? { items: 0, usd: 0 };
    m.items++;
    m.usd += usd;
    byModel.set(flags.model, m);
  }
  const totalUsd = [...byModel.values()].reduce((a, b) => a + b.usd, 0);

  // duration, from measured throughput
  const mode = client ? client.baseUrl : 'local';
  let estimateMs = 0;
  let estimateSource = '';
  let unknown = false;
  const byRes = new Map<string, number>();
  for (const item of valid) byRes.set(item.input!.resolution, (byRes.get(item.input!.resolution) ?? 0) + 1);
  for (const [res, count] of byRes) {
    const hit = lookupThroughput(config.dataDir, mode, res, parallel);
    if (hit) {
      estimateMs += hit.msPerItem * count;
      estimateSource = `measured in an earlier batch (${(60_000 / hit.from.msPerItem).toFixed(1)} images/min at ${hit.resolution}, ${hit.from.parallel} at a time)`;
    } else if (!client) {
      // Nothing measured yet: time one real transform of the first item now (its output is
      // discarded), with an empty mask cache so the sample segments its image as a fresh one would.
      const sample = valid.find((i) => i.input!.resolution === res)!;
      const { createEngine } = await import('../../engine/index.js');
      const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'reshoot-estimate-'));
      const engine = createEngine({ ...engineOptions(config), cacheDir });
      const t0 = performance.now();
      try {
        await engine.transform(localRequest(flags.model, sample.flags, [sample.image], sample.key));
      } finally {
        await engine.close();
        rmSync(cacheDir, { recursive: true, force: true });
      }
      const single = performance.now() - t0;
      estimateMs += (single * count) / parallel;
      estimateSource = `measured now: one uncached ${res} transform of ${path.basename(sample.image)} took ${(single / 1000).toFixed(2)} s, ${parallel} at a time`;
    } else unknown = true;
  }

  if (flags.json) {
    println(
      JSON.stringify({
        type: 'quote',
        items: items.length,
        alreadyDone: items.length - todo.length,
        todo: todo.length,
        cost: { source: priceSource, totalUsd: round(totalUsd), byModel: Object.fromEntries([...byModel].map(([k, v]) => [k, { items: v.items, usd: round(v.usd) }])) },
        estimate: unknown ? null : { ms: Math.round(estimateMs), concurrency: parallel, source: estimateSource },
      }),
    );
    return;
  }
  println(`dry run: ${items.length} items (${shape(items)}), ${items.length - todo.length} already done, ${todo.length} to render`);
  println('');
  println(`  ${'model'.padEnd(34)} ${'items'.padStart(6)} ${'USD'.padStart(10)}`);
  for (const [model, v] of byModel) println(`  ${model.padEnd(34)} ${String(v.items).padStart(6)} ${v.usd.toFixed(2).padStart(10)}`);
  println(`  ${'total'.padEnd(34)} ${String(valid.length).padStart(6)} ${totalUsd.toFixed(2).padStart(10)}`);
  println(`  prices: ${priceSource}`);
  println('');
  if (unknown) println(`estimated time: unknown (no batch has run through ${mode} yet; run one to measure)`);
  else println(`estimated time: ${formatDuration(estimateMs)} at concurrency ${parallel} (${estimateSource})`);
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * `--route`, checked before anything starts (exit 1, nothing written): in-process only the studio
 * renders; with --server the route must be one the server lists on GET /v1/models (D18).
 */
async function checkRoute(route: string | undefined, client: Client | null): Promise<void> {
  if (route === undefined || route === 'default') return;
  if (!client) {
    if (route === 'studio') return;
    throw new Error(`--route ${route}: an in-process batch renders with the studio only; give --server URL (a reshoot server with the ${route} upstream configured) to render through ${route}`);
  }
  let routes: string[];
  try {
    ({ routes } = await client.routes());
  } catch (err) {
    throw new Error(`--route: could not read the routes ${client.baseUrl} accepts (GET /v1/models: ${(err as Error).message})`, { cause: err });
  }
  if (!routes.includes(route)) throw new Error(`--route: ${route} is not configured on ${client.baseUrl} (its routes: ${routes.join(', ')})`);
}

/**
 * Engine options for a pool of `threads` engines: libvips threads split between them, so N engines
 * on C cores do not each start C threads and fight over the cores.
 */
function poolOptions(config: Config, threads: number, cores: number): EngineOptions {
  return { ...engineOptions(config), sharpConcurrency: Math.max(1, Math.floor(cores / threads)) };
}

async function runBatch(input: string, flags: BatchFlags): Promise<void> {
  const prompts = [...flags.prompt, ...(flags.prompts ? readPromptsFile(flags.prompts) : [])];
  const opts: BatchOptions = {
    model: flags.model,
    prompts,
    aspectRatios: flags.aspectRatio ?? [],
    resolution: flags.resolution,
    seed: flags.seed,
    background: flags.background,
    format: flags.format,
    route: flags.route,
    lock: flags.lock,
  };
  if (flags.route !== undefined && !(ROUTES as readonly string[]).includes(flags.route)) throw new Error(`--route: must be one of ${ROUTES.join(', ')} (received ${flags.route})`);
  const items = collectJobs(input, opts);
  // Bad arguments are refused before anything starts, as `transform` refuses them: exit 1, no
  // output directory, journal or failures.jsonl.
  const problems = [...new Set(items.flatMap((i) => (i.invalid ? [i.invalid] : [])))];
  if (problems.length > 0) throw new Error(problems.join('\n'));
  requireFiles([...new Set(items.map((i) => i.image))]);
  if (!flags.out && !flags.dryRun) throw new Error('--out DIR is required (only --dry-run runs without it)');
  const client = clientFrom(flags);
  await checkRoute(flags.route, client);
  const config = loadConfig();
  const cores = Math.max(1, os.availableParallelism());
  const concurrency = flags.concurrency ?? (client ? 4 : config.engine.threads);
  if (concurrency < 1) throw new Error('--concurrency: must be at least 1');
  const parallel = client ? concurrency : Math.min(concurrency, cores);

  if (!flags.out) {
    // a quote without an output directory: nothing is done yet
    await quote(items, items, flags, client, config, parallel);
    return;
  }
  const outDir = path.resolve(flags.out);
  const state = readState(outDir);
  const isDone = (i: BatchItem) => state.done.has(i.key) && existsSync(path.join(outDir, i.out));
  const todo = items.filter((i) => !isDone(i));

  if (flags.dryRun) {
    await quote(items, todo, flags, client, config, parallel);
    return;
  }

  mkdirSync(outDir, { recursive: true });
  const unlock = lockDir(outDir);
  removePartials(outDir);
  const jsonLines = flags.json || !process.stdout.isTTY;
  const bar = !jsonLines && process.stderr.isTTY ? createProgressBar(process.stderr) : null;
  // In-process, the first items wait for the segmentation model to load (seconds): say so.
  const preparing = client ? undefined : 'preparing the segmentation model…';
  const counts: ProgressCounts = { total: items.length, done: 0, failed: 0, skipped: items.length - todo.length, running: 0, preparing };
  const outcomes: Outcome[] = [];
  const started = Date.now();
  // CPU of this process and its engine threads: how many cores the batch kept busy
  const cpu0 = process.cpuUsage();

  const controller = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    // Stop starting items. In-process work finishes (seconds); server tasks are journalled and resumed.
    if (client) controller.abort(new Error('interrupted'));
    eprintln(`\nreshoot: interrupted; finishing in-flight items (press Ctrl-C again to quit now). Re-run the same command to resume.`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let executor: Executor | null = null;
  const finish = (o: Outcome) => {
    outcomes.push(o);
    if (o.status === 'done') {
      counts.done++;
      appendState(outDir, { t: 'done', key: o.item.key, out: o.item.out, ms: Math.round(o.ms), at: Date.now(), ...(o.taskId ? { taskId: o.taskId } : {}) });
    } else {
      counts.failed++;
      appendState(outDir, { t: 'failed', key: o.item.key, error: o.error ?? 'failed', at: Date.now(), ...(o.taskId ? { taskId: o.taskId } : {}) });
    }
    if (jsonLines) println(itemLine(o, outDir, flags));
    else if (o.status === 'failed') (bar ? bar.log.bind(bar) : eprintln)(`failed: ${itemLabel(o.item)}: ${o.error}`);
    bar?.update(counts);
  };

  try {
    const queue = interleaveByImage(todo);
    if (queue.length > 0) {
      const { createLocalExecutor, createRemoteExecutor } = await import('../batch/executors.js');
      executor = client
        ? createRemoteExecutor(client, flags.model, outDir, state, { timeoutMs: flags.timeout * 1000, route: flags.route })
        : createLocalExecutor(flags.model, outDir, poolOptions(config, Math.min(concurrency, config.engine.threads), cores), Math.min(concurrency, config.engine.threads));
    }
    bar?.update(counts);
    if (preparing && queue.length > 0 && !bar) eprintln(preparing);
    const worker = async () => {
      for (let item = queue.shift(); item && !interrupted; item = queue.shift()) {
        const t0 = performance.now();
        counts.running++;
        try {
          const r = await executor!.run(item, controller.signal);
          finish({ item, status: 'done', ms: performance.now() - t0, taskId: r.taskId, task: r.task });
        } catch (err) {
          if (interrupted && controller.signal.aborted) break; // journalled as submitted; resumed next run
          const e = err as Error & { task?: TaskObject };
          finish({ item, status: 'failed', ms: performance.now() - t0, error: e.message, taskId: e.task?.taskId, task: e.task });
        } finally {
          counts.running--;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await executor?.close();
    bar?.stop();
    unlock();
  }

  const elapsed = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const failures = outcomes.filter((o) => o.status === 'failed');
  const failuresFile = path.join(outDir, 'failures.jsonl');
  if (failures.length > 0) writeFileSync(failuresFile, failures.map((o) => itemLine(o, outDir, flags)).join('\n') + '\n');
  else rmSync(failuresFile, { force: true });
  const refused = failures.filter(lockRefused).length;

  // Only a run that rendered everything it set out to is a fair throughput sample.
  const rendered = outcomes.filter((o) => o.status === 'done');
  if (rendered.length >= 2 && !interrupted) {
    const byRes = new Map<string, number>();
    for (const o of rendered) byRes.set(o.item.input!.resolution, (byRes.get(o.item.input!.resolution) ?? 0) + 1);
    const [res] = [...byRes].sort((a, b) => b[1] - a[1])[0]!;
    recordThroughput(config.dataDir, `${client ? client.baseUrl : 'local'}|${res}`, { msPerItem: elapsed / rendered.length, parallel, items: rendered.length, at: Date.now() });
  }

  const perMin = rendered.length > 0 ? (rendered.length / elapsed) * 60_000 : 0;
  const summary = {
    type: 'summary',
    total: items.length,
    done: counts.done,
    failed: counts.failed,
    skipped: counts.skipped,
    notStarted: items.length - counts.done - counts.failed - counts.skipped,
    ms: elapsed,
    imagesPerMinute: Math.round(perMin * 10) / 10,
    cpuMs,
    out: outDir,
    state: path.join(outDir, STATE_FILE),
    failures: failures.length > 0 ? failuresFile : null,
    ...(flags.route ? { route: flags.route } : {}),
    ...(refused > 0 ? { lockRefused: refused } : {}),
    interrupted,
  };
  const table = [
    `  ${'done'.padEnd(12)} ${String(counts.done).padStart(6)}`,
    `  ${'failed'.padEnd(12)} ${String(counts.failed).padStart(6)}`,
    ...(refused > 0 ? [`    ${'lock refused'.padEnd(10)} ${String(refused).padStart(6)}   the upstream changed the product; --lock blend keeps such frames`] : []),
    `  ${'skipped'.padEnd(12)} ${String(counts.skipped).padStart(6)}   already done in an earlier run`,
    ...(summary.notStarted > 0 ? [`  ${'not started'.padEnd(12)} ${String(summary.notStarted).padStart(6)}   interrupted; re-run to resume`] : []),
    `  ${'total'.padEnd(12)} ${String(items.length).padStart(6)}   ${shape(items)}`,
    `  ${formatDuration(elapsed)} elapsed, ${perMin.toFixed(1)} images/min, ${concurrency} at a time${client ? ` via ${client.baseUrl}${flags.route ? ` (route ${flags.route})` : ''}` : ` in-process, ${(cpuMs / Math.max(1, elapsed)).toFixed(2)} cores busy`}`,
    `  outputs in ${outDir}`,
    ...(failures.length > 0 ? [`  failures in ${failuresFile}`] : []),
    ...failures.slice(0, 10).map((o) => `    ${itemLabel(o.item)}: ${o.error}`),
  ];
  const print = jsonLines ? eprintln : println;
  for (const l of table) print(l);
  if (jsonLines) println(JSON.stringify(summary));

  if (interrupted) process.exitCode = 130;
  else if (failures.length > 0) process.exitCode = 2;
}

export function register(program: Command): void {
  const cmd = program
    .command('batch')
    .description('Transform a folder or a manifest of packshots: images × prompts × ratios, resumable')
    .argument('<input>', 'a folder of images, or a CSV/JSONL manifest with image, prompt, aspect_ratio, resolution, name')
    .option('-o, --out <dir>', 'output directory (also holds the resume state and failures.jsonl); not needed with --dry-run')
    .option('-p, --prompt <text>', 'a prompt; repeat for several', collect, [])
    .option('--prompts <file>', 'prompts, one per line (# comments allowed)')
    .option('-a, --aspect-ratio <ratio>', 'an aspect ratio; repeat for several (default: the model default)', collect)
    .option('-r, --resolution <res>', '1K, 2K or 4K for every item without its own')
    .option('-m, --model <name>', 'model name', DEFAULT_MODEL)
    .option('--seed <n>', 'fixed seed for every item (default: derived from each item)', parseIntFlag('--seed'))
    .option('--background <mode>', 'auto, opaque or transparent')
    .option('--format <fmt>', 'png, jpeg or webp (default png)')
    .option('-c, --concurrency <n>', 'items at once (default: cores in-process, 4 with --server)', parseIntFlag('--concurrency'))
    .option('--dry-run', 'print the quote (items, cost by model, estimated time) and stop')
    .option('--json', 'one JSON line per finished item (the default when stdout is not a terminal)')
    .option('--timeout <seconds>', 'with --server: how long to wait for each task', parseIntFlag('--timeout'), 900)
    .option('--route <engine>', `with --server: the engine every task renders with, one the server configured (${ROUTES.join(', ')}); in-process: studio`)
    .option('--lock <mode>', 'generative routes: strict (default: a product the upstream changed fails the item), blend or off');
  addRemoteOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ reshoot batch ./packshots --out ./renders -p "dark slate, moody rim light" -p "cafe counter, morning" -a 1:1 -a 4:5
  $ reshoot batch catalogue.csv --out ./renders --dry-run
  $ reshoot batch catalogue.jsonl --out ./renders --server http://127.0.0.1:8080 --key sk-... -c 8
  $ reshoot batch ./packshots --out ./gen -p "sunlit kitchen counter" --server http://127.0.0.1:8080 --key sk-... --route hiapi --lock strict

Outputs are named <name>--<prompt words>-<hash>--<ratio>-<res>.png; prompts that begin alike are
named by the words where they differ. Re-running the same command skips
finished items and retries failed ones. Exit codes: 0 all done, 1 bad arguments, 2 some items
failed (see failures.jsonl), 130 interrupted.`,
    )
    .action(async (input: string, flags: BatchFlags) => {
      await runBatch(input, flags);
    });
}
