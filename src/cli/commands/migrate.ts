import type { Command } from 'commander';
import { configFromFlags } from './serve.js';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('Bring the database schema up to date (serve and worker also do this at start)')
    .option('--database-url <url>', 'postgres://user:password@host:port/db [RESHOOT_DATABASE_URL] (default: SQLite in the data dir)')
    .option('--data-dir <dir>', 'data dir holding the SQLite database [RESHOOT_DATA_DIR]')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  reshoot migrate --database-url postgres://reshoot:secret@db:5432/reshoot\n  reshoot migrate --data-dir ./data\n')
    .action(async (opts: { json?: boolean }) => {
      const config = configFromFlags(opts);
      const { openStore } = await import('../../store/open.js');
      const opened = await openStore(config);
      try {
        const where = opened.kind === 'sqlite' ? opened.file : 'postgres';
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ database: opened.kind, applied: opened.migrated, version: opened.schemaVersion })}\n`);
        } else if (opened.migrated.length === 0) {
          process.stdout.write(`${where}: schema up to date (version ${opened.schemaVersion})\n`);
        } else {
          process.stdout.write(`${where}: applied migration${opened.migrated.length > 1 ? 's' : ''} ${opened.migrated.join(', ')}; schema at version ${opened.schemaVersion}\n`);
        }
      } finally {
        await opened.store.close();
      }
    });
}
