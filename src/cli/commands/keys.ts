import type { Command } from 'commander';
import { openKeys } from '../../main.js';
import { configFromFlags } from './serve.js';

function withKeys<T>(opts: Record<string, unknown>, fn: (keys: ReturnType<typeof openKeys>['keys']) => T): T {
  const { db, keys } = openKeys(configFromFlags(opts));
  try {
    return fn(keys);
  } finally {
    db.close();
  }
}

const when = (s: number | null) => (s ? new Date(s * 1000).toISOString().replace('.000Z', 'Z') : '-');

export function register(program: Command): void {
  const keys = program
    .command('keys')
    .description('Manage API keys (stored hashed in the data dir)')
    .option('--data-dir <dir>', 'data dir of the server [RESHOOT_DATA_DIR]');

  keys
    .command('create')
    .description('Create a key and print it once')
    .requiredOption('--name <name>', 'a label for the key')
    .option('--webhook-secret <secret>', 'signs this key\'s callbacks (16-256 characters)')
    .option('--budget-usd <usd>', 'refuse creates that would take this key past this spend')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  reshoot keys create --name catalogue-bot --webhook-secret "$(openssl rand -hex 24)"\n')
    .action((opts: { name: string; webhookSecret?: string; budgetUsd?: string; json?: boolean }) => {
      const secret = opts.webhookSecret;
      if (secret !== undefined && (secret.length < 16 || secret.length > 256)) {
        program.error('reshoot: --webhook-secret must be 16 to 256 characters', { exitCode: 2 });
      }
      const budget = opts.budgetUsd === undefined ? undefined : Number(opts.budgetUsd);
      if (budget !== undefined && !(Number.isFinite(budget) && budget >= 0)) {
        program.error('reshoot: --budget-usd must be a non-negative number', { exitCode: 2 });
      }
      const { record, key } = withKeys(keys.opts(), (k) => k.create(opts.name, { webhookSecret: secret, budgetUsd: budget }));
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...record, key, webhookSecret: record.webhookSecret ? '(set)' : null })}\n`);
      else process.stdout.write(`created ${record.id} (${record.name})\n\n    ${key}\n\nThis key is shown only once.\n`);
    });

  keys
    .command('list')
    .description('List keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  reshoot keys list\n')
    .action((opts: { json?: boolean }) => {
      const list = withKeys(keys.opts(), (k) => k.list());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list.map((r) => ({ ...r, webhookSecret: r.webhookSecret ? '(set)' : null })))}\n`);
        return;
      }
      const rows = [['ID', 'NAME', 'PREFIX', 'SOURCE', 'WEBHOOK', 'BUDGET', 'CREATED', 'REVOKED']];
      for (const r of list) {
        rows.push([r.id, r.name, `${r.prefix}…`, r.source, r.webhookSecret ? 'signed' : '-', r.budgetUsd == null ? '-' : `$${r.budgetUsd}`, when(r.created), when(r.revoked)]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });

  keys
    .command('revoke')
    .description('Revoke a key by id; requests with it get 401 within seconds')
    .argument('<id>', 'the key id from `reshoot keys list`')
    .addHelpText('after', '\nExample:\n  reshoot keys revoke key_01jc9x...\n')
    .action((id: string) => {
      const done = withKeys(keys.opts(), (k) => k.revoke(id));
      if (!done) program.error(`reshoot: no active key with id ${id}`, { exitCode: 1 });
      process.stdout.write(`revoked ${id}\n`);
    });
}
