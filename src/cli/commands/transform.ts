import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { OUTPUT_EXTENSIONS, ROUTES } from '../../contract/models.js';
import { planScene } from '../../plan/index.js';
import type { TaskObject } from '../../sdk/index.js';
import {
  addInputOptions,
  addRemoteOptions,
  clientFrom,
  eprintln,
  formatFor,
  isDirectory,
  isRemoteRef,
  localRequest,
  parseIntFlag,
  println,
  requireFiles,
  wireInput,
  type InputFlags,
  type RemoteFlags,
} from '../shared.js';

interface TransformFlags extends RemoteFlags, InputFlags {
  model: string;
  route?: string;
  out?: string;
  json?: boolean;
  timeout: number;
}

/** Names the prompt words the planner has no meaning for, as the studio's chips do; the render goes ahead. */
function reportIgnoredWords(prompt: string): void {
  const unused = planScene(prompt).words.unused;
  if (unused.length > 0) eprintln(`ignored: ${unused.join(', ')} (the scene planner does not know these words; see \`reshoot plan\`)`);
}

/** Where the output goes: --out as a file, --out DIR/, or `<first image>-reshoot.<ext>` here. */
function outputPath(images: string[], flags: TransformFlags, ext: string): string {
  const stem = `${path.basename(images[0]!.split('?')[0]!).replace(/\.[^.]+$/, '') || 'image'}-reshoot.${ext}`;
  if (!flags.out) return path.resolve(stem);
  if (flags.out.endsWith('/') || isDirectory(flags.out)) return path.resolve(flags.out, stem);
  return path.resolve(flags.out);
}

async function runLocal(images: string[], flags: TransformFlags, input: InputFlags): Promise<void> {
  const remote = images.find(isRemoteRef);
  if (remote) throw new Error(`${remote.slice(0, 60)}: URLs need --server; in-process transforms read local files`);
  const req = localRequest(flags.model, input, images, `${flags.prompt}\n${images.map((i) => path.basename(i)).join('\n')}`);
  reportIgnoredWords(flags.prompt);
  // the engine (sharp, onnxruntime) loads only when a command renders, so --help stays fast
  const [{ configuredEngines, engineOptions, loadConfig }, { createEngine }] = await Promise.all([import('../../config.js'), import('../../engine/index.js')]);
  const config = loadConfig();
  // the route picks the engine as on the server: a generative one paints through its upstream
  const engineName = !flags.route || flags.route === 'default' ? config.engines.default : flags.route;
  const configured: string[] = configuredEngines(config.engines);
  if (!configured.includes(engineName)) throw new Error(`--route: ${engineName} is not configured (configured: ${configured.join(', ')}; see RESHOOT_DEFAULT_ENGINE and the upstream variables)`);
  let deps = {};
  if (engineName !== 'studio') {
    const { paintWith, upstreamSettings } = await import('../../providers/index.js');
    deps = { paint: paintWith(upstreamSettings(config)), fallback: config.engines.fallback };
    req.generative = { engine: engineName, lock: (input.lock as 'strict' | 'blend' | 'off' | undefined) ?? 'strict', model: flags.model, jobKey: `cli-${req.seed}-${flags.prompt}-${images.map((i) => path.resolve(i)).join(',')}` };
  }
  const engine = createEngine(engineOptions(config), deps);
  const t0 = performance.now();
  try {
    const result = await engine.transform(req);
    const out = outputPath(images, flags, OUTPUT_EXTENSIONS[result.format]);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, result.data);
    const ms = Math.round(performance.now() - t0);
    if (flags.json) {
      println(JSON.stringify({ out, width: result.width, height: result.height, format: result.format, ms, seed: req.seed, report: result.report }));
    } else {
      println(`${out}  ${result.width}x${result.height} ${result.format}  ${(ms / 1000).toFixed(2)} s`);
    }
    // with --json the report carries them
    if (!flags.json) for (const w of result.report.warnings ?? []) eprintln(`warning: ${w}`);
    if (!flags.json) for (const n of planNotes(result.report.plan)) eprintln(`note: ${n}`);
  } finally {
    await engine.close();
  }
}

async function runRemote(images: string[], flags: TransformFlags, input: InputFlags): Promise<void> {
  const client = clientFrom(flags)!;
  const urls: string[] = [];
  for (const image of images) {
    if (isRemoteRef(image)) urls.push(image);
    else urls.push((await client.uploads.create(image)).url);
  }
  const wire = wireInput(input, urls);
  const t0 = performance.now();
  // the SDK puts the route at the top level of the body (createRaw's body carries model and input only)
  const created = await client.tasks.createRaw({ model: flags.model, input: wire }, flags.route ? { route: flags.route } : {});
  if (!flags.json) eprintln(`task ${created.taskId}`);
  reportIgnoredWords(flags.prompt);
  const task: TaskObject = await client.tasks.wait(created.taskId, {
    intervalMs: 1000,
    timeoutMs: flags.timeout * 1000,
    onStatus: (t) => {
      if (!flags.json) eprintln(`  ${t.status}`);
    },
  });
  const first = task.output?.[0];
  if (!first) throw new Error(`task ${task.taskId} succeeded without an output`);
  const urlExt = path.extname(new URL(first.url, 'http://x').pathname).slice(1).toLowerCase();
  const out = outputPath(images, flags, urlExt === 'jpeg' ? 'jpg' : urlExt || OUTPUT_EXTENSIONS[(input.format as 'png') ?? 'png']);
  await mkdir(path.dirname(out), { recursive: true });
  const dl = await client.download(first, out);
  const ms = Math.round(performance.now() - t0);
  if (flags.json) println(JSON.stringify({ out, bytes: dl.bytes, ms, task }));
  else println(`${out}  ${task.taskId}  ${(ms / 1000).toFixed(2)} s`);
  const warnings = (task.reshoot as { warnings?: unknown } | undefined)?.warnings;
  if (!flags.json && Array.isArray(warnings)) for (const w of warnings) eprintln(`warning: ${String(w)}`);
  if (!flags.json) for (const n of planNotes((task.reshoot as { plan?: unknown } | undefined)?.plan)) eprintln(`note: ${n}`);
}

/** What the render did with words it could not follow as written (the plan's `words.notes`: "steam: dropped — …"). */
function planNotes(plan: unknown): string[] {
  const notes = (plan as { words?: { notes?: unknown } } | undefined)?.words?.notes;
  return Array.isArray(notes) ? notes.map(String) : [];
}

export function register(program: Command): void {
  const cmd = addInputOptions(
    program
      .command('transform')
      .description('Transform product photos: a new scene, light and framing around the unchanged product')
      .argument('<image...>', 'reference images (local files; with --server also http(s) URLs); the first is the product'),
  )
    .option('-o, --out <path>', 'output file, or a directory (default ./<image>-reshoot.<ext>)')
    .option('--json', 'print one JSON object with the output path and the engine report')
    .option('--timeout <seconds>', 'with --server: how long to wait for the task', parseIntFlag('--timeout'), 600)
    .option('--route <engine>', `the engine: ${ROUTES.join(', ')} (default: RESHOOT_DEFAULT_ENGINE here, the server's default with --server)`)
    .option('--lock <mode>', 'generative engines: strict (default), blend or off');
  addRemoteOptions(cmd)
    .addHelpText(
      'after',
      `
Examples:
  $ reshoot transform sneaker.jpg -p "on wet concrete under soft morning light" -a 4:3 -r 2K -o sneaker-concrete.png
  $ reshoot transform mug.png -p "dark slate, moody rim light" --json
  $ reshoot transform bottle.png -p "marble counter" --server http://127.0.0.1:8080 --key sk-...

Without --server the engine runs in this process (data dir: RESHOOT_DATA_DIR, default ./data).
Exit codes: 0 done, 1 bad arguments or a failed transform.`,
    )
    .action(async (images: string[], flags: TransformFlags) => {
      const format = formatFor(flags.format, flags.out);
      const input: InputFlags = {
        prompt: flags.prompt,
        aspectRatio: flags.aspectRatio,
        resolution: flags.resolution,
        seed: flags.seed,
        scene: flags.scene,
        background: flags.background,
        format,
        lock: flags.lock,
      };
      if (flags.route !== undefined && !(ROUTES as readonly string[]).includes(flags.route)) throw new Error(`--route: must be one of ${ROUTES.join(', ')} (received ${flags.route})`);
      requireFiles(images);
      if (flags.server) await runRemote(images, flags, input);
      else await runLocal(images, flags, input);
    });
}
