import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** The directory holding initdb and pg_ctl: a Debian cluster's, or whatever PATH has. */
function findBinDir(): string | null {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = path.join(debian, v, 'bin');
      if (fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'))) return dir;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

const binDir = findBinDir();
const isRoot = process.getuid?.() === 0;
/** initdb refuses to run as root: as root, the cluster is made and run by the `postgres` user. */
const runAs = isRoot ? 'postgres' : null;
const haveRunAs = !isRoot || ((fs.existsSync('/usr/sbin/runuser') || fs.existsSync('/sbin/runuser')) && userExists('postgres'));

function userExists(name: string): boolean {
  try {
    return fs.readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/** Why Postgres tests cannot run here, or null when they can. */
export const postgresUnavailable: string | null = !binDir
  ? 'PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin or on PATH; .ci/run installs the Debian package)'
  : !haveRunAs
    ? 'running as root without a postgres user to run initdb as'
    : null;

if (postgresUnavailable) console.warn(`[postgres tests skipped] ${postgresUnavailable}`);

async function exec(bin: string, args: string[]): Promise<void> {
  const file = path.join(binDir!, bin);
  if (runAs) await run('runuser', ['-u', runAs, '--', file, ...args], { timeout: 120_000 });
  else await run(file, args, { timeout: 120_000 });
}

export interface TestPostgres {
  /** a fresh, empty database on the cluster: its URL */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A throwaway cluster in a temp dir on a free loopback port (trust auth, no other listener), for one
 * test file. `stop()` shuts it down and removes it.
 */
export async function startPostgres(): Promise<TestPostgres> {
  if (postgresUnavailable) throw new Error(postgresUnavailable);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reshoot-pg-'));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  if (runAs) fs.chownSync(dir, Number((await run('id', ['-u', runAs])).stdout.trim()), Number((await run('id', ['-g', runAs])).stdout.trim()));
  await exec('initdb', ['-D', data, '-U', 'reshoot', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const opts = `-k ${dir} -p ${port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  await exec('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  const admin = `postgres://reshoot@127.0.0.1:${port}/postgres`;
  let n = 0;
  return {
    async createDatabase() {
      const name = `t${process.pid}_${++n}`;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://reshoot@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
