import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../../config.js';
import type { startReshoot } from '../../main.js';

/** Flags of `reshoot serve` / `reshoot worker`, each the twin of a RESHOOT_* variable. */
const FLAGS: Array<[flag: string, env: string, help: string]> = [
  ['--host <host>', 'RESHOOT_HOST', 'address to listen on (default 127.0.0.1)'],
  ['--port <port>', 'RESHOOT_PORT', 'port to listen on (default 8080)'],
  ['--data-dir <dir>', 'RESHOOT_DATA_DIR', 'database, outputs and caches (default ./data)'],
  ['--database-url <url>', 'RESHOOT_DATABASE_URL', 'postgres://user:password@host:port/db for tasks, keys and jobs (default: SQLite in the data dir)'],
  ['--queue-url <url>', 'RESHOOT_QUEUE_URL', 'redis://host:port for render and callback jobs on BullMQ (default: jobs in the database)'],
  ['--blob-url <url>', 'RESHOOT_BLOB_URL', 's3://bucket/prefix for uploads, sources and outputs; RESHOOT_S3_* and AWS_* name the store (default: the data dir)'],
  ['--public-url <url>', 'RESHOOT_PUBLIC_URL', 'base URL clients reach this server at, for output links'],
  ['--role <role>', 'RESHOOT_ROLE', 'all | api | worker (default all)'],
  ['--log-level <level>', 'RESHOOT_LOG_LEVEL', 'fatal | error | warn | info | debug | trace | silent'],
  ['--api-keys <keys>', 'RESHOOT_API_KEYS', 'extra keys admitted, comma-separated (sk-a,sk-b)'],
  ['--webhook-secret <secret>', 'RESHOOT_WEBHOOK_SECRET', 'signs callbacks of keys without their own secret (16-256 chars)'],
  ['--signing-secret <secret>', 'RESHOOT_SIGNING_SECRET', 'signs download links (default: generated once, kept in the database)'],
  ['--rate-limit <limits>', 'RESHOOT_RATE_LIMIT', '"off" or "create=60,read=300,concurrent=10" per key'],
  ['--body-limit-bytes <n>', 'RESHOOT_BODY_LIMIT_BYTES', 'largest JSON body (default 10 MB)'],
  ['--upload-limit-bytes <n>', 'RESHOOT_UPLOAD_LIMIT_BYTES', 'largest upload (default 20 MB)'],
  ['--queue-max-depth <n>', 'RESHOOT_QUEUE_MAX_DEPTH', 'unfinished render jobs before creates get 503 (default 1000)'],
  ['--worker-concurrency <n>', 'RESHOOT_WORKER_CONCURRENCY', 'tasks rendered at once (default: cores)'],
  ['--engine-threads <n>', 'RESHOOT_ENGINE_THREADS', 'engine worker threads (default: cores)'],
  ['--job-lease-seconds <n>', 'RESHOOT_JOB_LEASE_SECONDS', 'how long a dead worker holds a job (default 60)'],
  ['--job-max-attempts <n>', 'RESHOOT_JOB_MAX_ATTEMPTS', 'tries per task before it fails (default 3)'],
  ['--task-timeout-seconds <n>', 'RESHOOT_TASK_TIMEOUT_SECONDS', 'deadline from creation, then TASK_TIMEOUT (default 600)'],
  ['--output-ttl-seconds <n>', 'RESHOOT_OUTPUT_TTL_SECONDS', 'lifetime of output links (default 604800 = 7 days)'],
  ['--persistent-cap-gb <n>', 'RESHOOT_PERSISTENT_CAP_GB', 'room per key for persistent outputs (storage: persistent, /v1/storages); 0 turns them off (default 100)'],
  ['--idempotency-ttl-seconds <n>', 'RESHOOT_IDEMPOTENCY_TTL_SECONDS', 'how long Idempotency-Keys are kept (default 86400)'],
  ['--fetch-allow-hosts <list>', 'RESHOOT_FETCH_ALLOW_HOSTS', 'hosts, IPs or CIDRs allowed despite the private-address guard'],
  ['--fetch-max-bytes <n>', 'RESHOOT_FETCH_MAX_BYTES', 'largest reference download (default 20 MB)'],
  ['--fetch-timeout-ms <n>', 'RESHOOT_FETCH_TIMEOUT_MS', 'reference download time limit (default 30000)'],
  ['--fetch-max-redirects <n>', 'RESHOOT_FETCH_MAX_REDIRECTS', 'redirects followed (default 3)'],
  ['--max-input-pixels <n>', 'RESHOOT_MAX_INPUT_PIXELS', 'largest decoded reference (default 50000000)'],
  ['--callback-retry-schedule <s>', 'RESHOOT_CALLBACK_RETRY_SCHEDULE', 'retry delays in seconds after the first attempt (default 60,300,1200)'],
  ['--callback-timeout-ms <n>', 'RESHOOT_CALLBACK_TIMEOUT_MS', 'wait for a receiver to answer (default 10000)'],
  ['--pricing <json|file>', 'RESHOOT_PRICING', 'price rows in the hiapi pricing shape, inline JSON or a file'],
  ['--mask-cache-mb <n>', 'RESHOOT_MASK_CACHE_MB', 'disk budget for cached mattes (default 512)'],
  ['--min-free-mb <n>', 'RESHOOT_MIN_FREE_MB', 'free space under the data dir below which creates and uploads answer 503 (default 100)'],
  ['--model-path <file>', 'RESHOOT_MODEL_PATH', 'segmentation model (ONNX) with IS-Net\'s input and output (default: the shipped IS-Net weights)'],
  ['--web-dir <dir>', 'RESHOOT_WEB_DIR', 'built web studio to serve at / (default web/dist)'],
  ['--scenes-dir <dir>', 'RESHOOT_SCENES_DIR', 'the scene library: set photos with <name>.json tag sidecars; a prompt naming a tag renders into that photo'],
  ['--default-engine <name>', 'RESHOOT_DEFAULT_ENGINE', 'what route default renders with: studio | hiapi | openai | comfyui (default studio)'],
  ['--fallback-engine <name>', 'RESHOOT_FALLBACK_ENGINE', 'off | studio: render with the studio when a generative upstream fails (default off)'],
  ['--hiapi-upstream-url <url>', 'RESHOOT_HIAPI_UPSTREAM_URL', 'hiapi as an upstream (its key in RESHOOT_HIAPI_UPSTREAM_KEY)'],
  ['--openai-base-url <url>', 'RESHOOT_OPENAI_BASE_URL', 'an OpenAI-compatible images API (its key in RESHOOT_OPENAI_API_KEY)'],
  ['--openai-image-model <name>', 'RESHOOT_OPENAI_IMAGE_MODEL', 'the model asked for on /v1/images/edits (default gpt-image-1)'],
  ['--comfyui-url <url>', 'RESHOOT_COMFYUI_URL', 'a ComfyUI server (with --comfyui-workflow)'],
  ['--comfyui-workflow <file>', 'RESHOOT_COMFYUI_WORKFLOW', 'API-format workflow JSON with {{image}}, {{mask}}, {{prompt}}, {{seed}}, {{width}}, {{height}}'],
];

const camel = (flag: string) => flag.replace(/^--/, '').split(' ')[0]!.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** Config from the environment with flags layered on top; a bad value exits with every problem listed. */
export function configFromFlags(opts: Record<string, unknown>, extra: Record<string, string> = {}): Config {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  for (const [flag, name] of FLAGS) {
    const v = opts[camel(flag)];
    if (typeof v === 'string') env[name] = v;
  }
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`reshoot: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function serve(config: Config): Promise<void> {
  let r: Awaited<ReturnType<typeof startReshoot>>;
  try {
    const [{ startReshoot }, { default: pino }] = await Promise.all([import('../../main.js'), import('pino')]);
    // stdout is for people (the banner below), stderr carries pino's JSON lines at
    // RESHOOT_LOG_LEVEL, so `2>>reshoot.log` or a log collector takes the log alone.
    const logger = pino({ level: config.log.level }, pino.destination({ dest: 2, sync: true }));
    r = await startReshoot(config, { logger });
  } catch (err) {
    // startReshoot has closed what it started; nothing may keep running on the data dir.
    process.stderr.write(`reshoot: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (r.url) {
    const studio = `${r.url.replace(/\/+$/, '')}/`;
    process.stdout.write(`reshoot ${config.role === 'all' ? 'server and worker' : config.role} listening on ${r.url}\n\n    open the studio at ${studio}\n\n`);
  }
  else process.stdout.write(`reshoot worker running (data in ${config.dataDir})\n`);
  if (r.firstKey) {
    process.stdout.write(
      [
        '',
        'First start: an API key was created. It is shown only this once; keep it somewhere safe:',
        '',
        `    ${r.firstKey}`,
        '',
        'Use it as "Authorization: Bearer <key>". More keys:',
        '    reshoot keys create --name NAME [--webhook-secret S]',
        '    reshoot keys list',
        '    reshoot keys revoke ID',
        '',
      ].join('\n'),
    );
  }
  const stop = (signal: string) => {
    process.stdout.write(`reshoot: ${signal}, finishing running work...\n`);
    r.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`reshoot: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** Flags only a process that listens has: a lone worker serves no HTTP. */
const HTTP_ONLY = new Set(['RESHOOT_HOST', 'RESHOOT_PORT', 'RESHOOT_WEB_DIR']);

function addFlags(cmd: Command, opts: { http: boolean }): Command {
  for (const [flag, name, help] of FLAGS) if (opts.http || !HTTP_ONLY.has(name)) cmd.option(flag, `${help} [${name}]`);
  return cmd;
}

export function register(program: Command): void {
  addFlags(
    program
      .command('serve')
      .description('Run the hiapi-compatible API server, the task worker and the web studio (SQLite + local disk)'),
    { http: true },
  )
    .addHelpText(
      'after',
      '\nThe console shows where to open the studio; the log (JSON lines) goes to stderr.\n\nExample:\n  reshoot serve --port 8080 --data-dir ./data 2>>reshoot.log\n  RESHOOT_RATE_LIMIT=off reshoot serve --role api\n',
    )
    .action((opts: Record<string, unknown>) => serve(configFromFlags(opts)));

  addFlags(program.command('worker').description('Run only the task worker (same database and data dir as the API)'), { http: false })
    .addHelpText('after', '\nExample:\n  reshoot worker --data-dir ./data --worker-concurrency 2\n')
    .action((opts: Record<string, unknown>) => serve(configFromFlags(opts, { RESHOOT_ROLE: 'worker' })));
}
