import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { TaskFailedError, type TaskObject } from '../../sdk/index.js';
import {
  addInputOptions,
  addRemoteOptions,
  clientFrom,
  eprintln,
  isRemoteRef,
  parseIntFlag,
  println,
  wireInput,
  type InputFlags,
  type RemoteFlags,
} from '../shared.js';

const when = (s: number) => (s ? new Date(s * 1000).toISOString().replace('T', ' ').slice(0, 19) : '-');

function printTask(task: TaskObject, json: boolean | undefined): void {
  if (json) {
    println(JSON.stringify(task));
    return;
  }
  println(`${task.taskId}  ${task.model}  ${task.status}`);
  println(`  created   ${when(task.created)}`);
  println(`  completed ${when(task.completed)}`);
  for (const o of task.output ?? []) println(`  output    ${o.url}  (expires ${when(o.expireAt)})`);
  if (task.error) println(`  error     ${task.error.code}: ${task.error.message}`);
}

interface CreateFlags extends RemoteFlags, InputFlags {
  image: string[];
  model: string;
  callback?: string;
  idempotencyKey?: string;
  route?: string;
  wait?: boolean;
  out?: string;
  json?: boolean;
}

interface WaitFlags extends RemoteFlags {
  interval: number;
  timeout: number;
  out?: string;
  json?: boolean;
}

/** `tasks wait` and `tasks create --wait`: poll, print, download; a failed task exits 1. */
async function waitAndReport(flags: RemoteFlags & { json?: boolean; out?: string }, taskId: string, intervalMs: number, timeoutMs: number): Promise<void> {
  const client = clientFrom(flags, { required: true })!;
  let task: TaskObject;
  try {
    task = await client.tasks.wait(taskId, {
      intervalMs,
      timeoutMs,
      onStatus: (t) => {
        if (!flags.json) eprintln(`${t.taskId}  ${t.status}`);
      },
    });
  } catch (err) {
    if (err instanceof TaskFailedError) {
      printTask(err.task, flags.json);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  if (flags.out && task.output?.[0]) {
    const dest = flags.out.endsWith('/') ? path.join(flags.out, path.basename(new URL(task.output[0].url).pathname)) : flags.out;
    await mkdir(path.dirname(path.resolve(dest)), { recursive: true });
    await client.download(task.output[0], dest);
    if (!flags.json) eprintln(`wrote ${dest}`);
  }
  printTask(task, flags.json);
}

export function register(program: Command): void {
  const tasks = program
    .command('tasks')
    .description('Create, inspect and wait for tasks on a reshoot or hiapi server (the task API, through the SDK)')
    .addHelpText(
      'after',
      `
Examples:
  $ export RESHOOT_SERVER=http://127.0.0.1:8080 RESHOOT_API_KEY=sk-...
  $ reshoot tasks create --image sneaker.jpg -p "on wet concrete" -a 4:3 -r 2K --wait --out sneaker.png
  $ reshoot tasks get tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR
  $ reshoot tasks list --size 20`,
    );

  const create = addInputOptions(
    tasks
      .command('create')
      .description('Create a task (local files are uploaded first) and print its taskId')
      .requiredOption('-i, --image <file|url...>', 'reference images: local files (uploaded) or http(s) URLs'),
  )
    .option('--callback <url>', 'POST the finished task to this URL (signed)')
    .option('--idempotency-key <key>', 'makes a retried create safe (default: a fresh one per run)')
    .option('--route <engine>', "the top-level route: default, studio or an upstream the server configured (GET /v1/models lists them)")
    .option('--lock <mode>', 'generative routes: input.lock strict (default), blend or off')
    .option('--wait', 'wait for the task to finish and print it')
    .option('-o, --out <path>', 'with --wait: download the output here')
    .option('--json', 'print JSON');
  addRemoteOptions(create, { required: true })
    .addHelpText('after', '\nExample:\n  $ reshoot tasks create -i https://example.com/mug.jpg -p "cafe counter, morning light" --json')
    .action(async (flags: CreateFlags) => {
      const client = clientFrom(flags, { required: true })!;
      const urls: string[] = [];
      for (const image of flags.image) urls.push(isRemoteRef(image) ? image : (await client.uploads.create(image)).url);
      const input = wireInput(flags, urls);
      const created = await client.tasks.createRaw(
        { model: flags.model, input },
        { idempotencyKey: flags.idempotencyKey, callback: flags.callback ? { url: flags.callback } : undefined, ...(flags.route ? { route: flags.route } : {}) },
      );
      if (flags.wait) {
        if (!flags.json) eprintln(`task ${created.taskId}${created.replayed ? ' (replayed)' : ''}`);
        await waitAndReport(flags, created.taskId, 1000, 600_000);
        return;
      }
      println(flags.json ? JSON.stringify(created) : created.taskId);
    });

  const get = tasks
    .command('get')
    .description('Show one task: status, outputs or the failure')
    .argument('<taskId>', 'tk-hiapi-... id')
    .option('--json', 'print the task object as JSON');
  addRemoteOptions(get, { required: true })
    .addHelpText('after', '\nExample:\n  $ reshoot tasks get tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR --json')
    .action(async (taskId: string, flags: RemoteFlags & { json?: boolean }) => {
      const client = clientFrom(flags, { required: true })!;
      printTask(await client.tasks.get(taskId), flags.json);
    });

  const wait = tasks
    .command('wait')
    .description('Poll a task until it finishes; exit 1 if it failed')
    .argument('<taskId>', 'tk-hiapi-... id')
    .option('--interval <ms>', 'between polls', parseIntFlag('--interval'), 2000)
    .option('--timeout <seconds>', 'give up after', parseIntFlag('--timeout'), 600)
    .option('-o, --out <path>', 'download the output here (a file, or a directory ending in /)')
    .option('--json', 'print the final task object as JSON');
  addRemoteOptions(wait, { required: true })
    .addHelpText('after', '\nExample:\n  $ reshoot tasks wait tk-hiapi-01HZTQ8BX2N3GM3YFK4Z9D7VQR --out ./renders/')
    .action(async (taskId: string, flags: WaitFlags) => {
      await waitAndReport(flags, taskId, flags.interval, flags.timeout * 1000);
    });

  const list = tasks
    .command('list')
    .description('List your tasks, newest first')
    .option('--page <n>', 'page number', parseIntFlag('--page'), 1)
    .option('--size <n>', 'tasks per page (1-100)', parseIntFlag('--size'), 10)
    .option('--json', 'print the page as JSON');
  addRemoteOptions(list, { required: true })
    .addHelpText('after', '\nExample:\n  $ reshoot tasks list --page 2 --size 50')
    .action(async (flags: RemoteFlags & { page: number; size: number; json?: boolean }) => {
      const client = clientFrom(flags, { required: true })!;
      const page = await client.tasks.list({ page: flags.page, size: flags.size });
      if (flags.json) {
        println(JSON.stringify(page));
        return;
      }
      println(`page ${page.page}, ${page.tasks.length} of ${page.total} tasks`);
      for (const t of page.tasks) println(`${t.taskId}  ${t.status.padEnd(9)}  ${when(t.created)}  ${t.model}`);
    });
}
