import { Command } from 'commander';
import { readFileSync } from 'node:fs';

/**
 * The `reshoot` command. Each subcommand lives in commands/<name>.ts and exports
 * `register(program)`; this file only assembles them. The CLI is an adapter: it holds no logic of
 * its own beyond parsing arguments and printing.
 */
import * as serve from './commands/serve.js';
import * as keys from './commands/keys.js';
import * as transform from './commands/transform.js';
import * as batch from './commands/batch.js';
import * as tasks from './commands/tasks.js';
import * as plan from './commands/plan.js';
import * as cutout from './commands/cutout.js';
import * as migrate from './commands/migrate.js';

const COMMANDS: Array<{ register(program: Command): void }> = [serve, keys, transform, batch, tasks, plan, cutout, migrate];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('reshoot')
    .description('Product-photo transforms behind the hiapi task API: server, engine and client in one tool')
    .version(version(), '-V, --version')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const c of COMMANDS) c.register(program);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
