import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { KeyService } from '../../tasks/keys.js';
import { configFromFlags } from './serve.js';

/**
 * Runs `fn` on the key store of the data dir. Only `create` may start a new data dir; listing or
 * revoking keys in one that does not exist is a wrong path, not an empty list.
 */
async function withKeys<T>(opts: Record<string, unknown>, fn: (keys: KeyService) => Promise<T>, { mayCreate = false } = {}): Promise<T> {
  const config = configFromFlags(opts);
  if (!mayCreate && config.database.kind === 'sqlite' && !existsSync(config.dataDir)) {
    throw new Error(`${config.dataDir}: no such data dir (give the --data-dir or RESHOOT_DATA_DIR that reshoot serve uses)`);
  }
  const { openKeys } = await import('../../main.js');
  const { opened, keys } = await openKeys(config);
  try {
    return await fn(keys);
  } finally {
    await opened.store.close();
  }
}

const when = (s: number | null) => (s ? new Date(s * 1000).toISOString().replace('.000Z', 'Z') : '-');

export function register(program: Command): void {
  const keys = program
    .command('keys')
    .description('Manage API keys (stored hashed in the data dir)')
    .option('--data-dir <dir>', 'data dir of the server [RESHOOT_DATA_DIR]')
    .option('--database-url <url>', 'the server\'s Postgres, when it uses one [RESHOOT_DATABASE_URL]');

  keys
    .command('create')
    .description('Create a key and print it once')
    .requiredOption('--name <name>', 'a label for the key')
    .option('--webhook-secret <secret>', 'signs this key\'s callbacks (16-256 characters)')
    .option('--budget-usd <usd>', 'refuse creates that would take this key past this spend')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  reshoot keys create --name catalogue-bot --webhook-secret "$(openssl rand -hex 24)"\n')
    .action(async (opts: { name: string; webhookSecret?: string; budgetUsd?: string; json?: boolean }) => {
      const secret = opts.webhookSecret;
      if (secret !== undefined && (secret.length < 16 || secret.length > 256)) {
        program.error('reshoot: --webhook-secret must be 16 to 256 characters', { exitCode: 2 });
      }
      const budget = opts.budgetUsd === undefined ? undefined : Number(opts.budgetUsd);
      if (budget !== undefined && !(Number.isFinite(budget) && budget >= 0)) {
        program.error('reshoot: --budget-usd must be a non-negative number', { exitCode: 2 });
      }
      const { record, key } = await withKeys(keys.opts(), (k) => k.create(opts.name, { webhookSecret: secret, budgetUsd: budget }), { mayCreate: true });
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...record, key, webhookSecret: record.webhookSecret ? '(set)' : null })}\n`);
      else process.stdout.write(`created ${record.id} (${record.name})\n\n    ${key}\n\nThis key is shown only once.\n`);
    });

  keys
    .command('list')
    .description('List keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  reshoot keys list\n')
    .action(async (opts: { json?: boolean }) => {
      const list = await withKeys(keys.opts(), (k) => k.list());
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
    .action(async (id: string) => {
      const done = await withKeys(keys.opts(), (k) => k.revoke(id));
      if (!done) program.error(`reshoot: no active key with id ${id}`, { exitCode: 1 });
      process.stdout.write(`revoked ${id}\n`);
    });
}
