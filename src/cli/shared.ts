import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { MODELS, OUTPUT_FORMATS, type OutputFormat } from '../contract/models.js';
import { defaultSeed, transformRequest } from '../contract/transform-request.js';
import { validateCreateBody, type TaskInput } from '../contract/validate.js';
import type { TransformRequest } from '../engine/types.js';
import { Client } from '../sdk/index.js';

/**
 * Helpers shared by the client-side commands (transform, batch, tasks): the --server/--key pair,
 * turning flags into a checked create body, and engine options from the config. The rules
 * themselves live in src/contract; nothing here re-implements them.
 */

export const DEFAULT_MODEL = 'gpt-image-2-image-to-image';

export interface RemoteFlags {
  server?: string;
  key?: string;
}

/**
 * Adds `--server URL` / `--key K`, read from RESHOOT_SERVER / RESHOOT_API_KEY when not given.
 * `required`: the command only talks to a server (tasks), so there is no in-process engine to
 * mention.
 */
export function addRemoteOptions(cmd: Command, opts: { required?: boolean } = {}): Command {
  const help = opts.required ? 'the reshoot (or hiapi) server to talk to' : 'use a reshoot (or hiapi) server instead of the in-process engine';
  return cmd
    .addOption(new Option('--server <url>', help).env('RESHOOT_SERVER'))
    .addOption(new Option('--key <key>', 'API key for --server').env('RESHOOT_API_KEY'));
}

/** A client for --server, or null when the command should run in-process. */
export function clientFrom(flags: RemoteFlags, opts: { required?: boolean } = {}): Client | null {
  if (!flags.server) {
    if (opts.required) throw new Error('--server URL (or RESHOOT_SERVER) is required for this command');
    return null;
  }
  if (!flags.key) throw new Error('--key K (or RESHOOT_API_KEY) is required with --server');
  try {
    return new Client({ baseUrl: flags.server, apiKey: flags.key });
  } catch (err) {
    throw new Error(`--server: ${(err as Error).message}`, { cause: err });
  }
}


export const isRemoteRef = (s: string): boolean => /^https?:\/\//i.test(s) || /^data:image\//i.test(s);

/**
 * The options that make up a task's `input` (prompt, model, ratio, resolution, seed, scene,
 * background, format), the same on every command that creates a task.
 */
export function addInputOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-p, --prompt <text>', 'what the new shot should look like')
    .option('-m, --model <name>', 'model name', DEFAULT_MODEL)
    .option('-a, --aspect-ratio <ratio>', 'auto, 1:1, 4:3, 16:9, ... (the model decides the default)')
    .option('-r, --resolution <res>', '1K, 2K or 4K')
    .option('--seed <n>', 'fixed seed: same inputs + same seed = same bytes', parseIntFlag('--seed'))
    .option('--scene <json>', 'explicit scene settings as JSON, or @file.json', parseSceneFlag)
    .option('--background <mode>', 'auto, opaque or transparent')
    .option('--format <fmt>', 'png, jpeg or webp (default from --out, else png)');
}

/** Flags that make up a task's `input`, before the references are known. */
export interface InputFlags {
  prompt: string;
  aspectRatio?: string;
  resolution?: string;
  seed?: number;
  scene?: Record<string, unknown>;
  background?: string;
  format?: string;
  /** input.lock, for generative routes */
  lock?: string;
}

/** The wire `input` for these flags (only what was set, so server defaults apply). */
export function wireInput(flags: InputFlags, inputUrls: readonly string[]): Record<string, unknown> {
  const input: Record<string, unknown> = { prompt: flags.prompt, input_urls: [...inputUrls] };
  if (flags.aspectRatio !== undefined) input.aspect_ratio = flags.aspectRatio;
  if (flags.resolution !== undefined) input.resolution = flags.resolution;
  if (flags.seed !== undefined) input.seed = flags.seed;
  if (flags.scene !== undefined) input.scene = flags.scene;
  if (flags.background !== undefined) input.background = flags.background;
  if (flags.format !== undefined) input.output_format = flags.format;
  if (flags.lock !== undefined) input.lock = flags.lock;
  return input;
}

/**
 * Checks flags with the server's own validator and returns the normalised input. Local files are
 * not URLs, so each stands in as a placeholder URL for the check; the count still matters (1-16 / 1-5).
 */
export function checkInput(model: string, flags: InputFlags, refCount: number): TaskInput {
  const placeholders = Array.from({ length: refCount }, (_, i) => `https://local.invalid/${i}`);
  return validateCreateBody({ model, input: wireInput(flags, placeholders) }).input;
}

/** The engine request for local files, after the same checks the server makes. */
export function localRequest(model: string, flags: InputFlags, sources: readonly string[], seedKey: string): TransformRequest {
  const input = checkInput(model, flags, sources.length);
  return transformRequest(input, {
    tier: MODELS[model]!.tier,
    sources: sources.map((s) => path.resolve(s)),
    seed: input.seed ?? defaultSeed(seedKey),
  });
}

/** `--format`, else the output file's extension, else png. */
export function formatFor(explicit: string | undefined, outPath: string | undefined): OutputFormat | undefined {
  if (explicit !== undefined) {
    if (!OUTPUT_FORMATS.includes(explicit as OutputFormat)) throw new Error(`--format: must be one of ${OUTPUT_FORMATS.join(', ')} (received ${explicit})`);
    return explicit as OutputFormat;
  }
  const ext = outPath ? path.extname(outPath).toLowerCase() : '';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.webp') return 'webp';
  if (ext === '.png') return 'png';
  return undefined;
}

export function parseIntFlag(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim())) throw new Error(`${name}: expected a non-negative integer but received ${JSON.stringify(v)}`);
    return Number(v);
  };
}

export function parseSceneFlag(v: string): Record<string, unknown> {
  let text = v;
  // --scene @file.json reads a file, so long scene settings need no shell quoting
  if (v.startsWith('@')) text = readFileSync(v.slice(1), 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`--scene: expected a JSON object (${(err as Error).message})`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('--scene: expected a JSON object');
  return parsed as Record<string, unknown>;
}

/** Throws (exit 1) naming every local reference that does not exist, before any engine starts. */
export function requireFiles(refs: readonly string[]): void {
  const missing = refs.filter((r) => !isRemoteRef(r) && !existsSync(r));
  if (missing.length > 0) throw new Error(missing.map((m) => `${m}: no such file`).join('\n'));
}

export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Writes one line to stdout. */
export const println = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};
/** Writes one line to stderr. */
export const eprintln = (s = ''): void => {
  process.stderr.write(`${s}\n`);
};
