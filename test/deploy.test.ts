import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../src/cli/index.js';
import { loadConfig } from '../src/config.js';

/**
 * deploy/ cannot be run here (no Docker), so this keeps it true to the code: the compose file parses,
 * its reshoot services run commands the CLI has with settings the config accepts, and the Dockerfile
 * runs what package.json says.
 */
const read = (file: string) => fs.readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

/** the variables in deploy/.env.example */
const dotenv = Object.fromEntries(
  read('deploy/.env.example')
    .split('\n')
    .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** Compose's interpolation: `${X}`, `${X:-default}`, `${X:?error}`, `$$` for a literal dollar. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Z][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (whole === '$$') return '$';
    const v = vars[name!];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? arg! : '';
  });
}

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  deploy?: { replicas?: number | string };
}
const compose = parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, Service> };
const reshootServices = Object.entries(compose.services).filter(([, s]) => s.image === 'reshoot:local');
const dockerfile = read('deploy/Dockerfile');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const deployReadme = read('deploy/README.md');

describe('deploy/compose.yaml', () => {
  it('has the API twice, workers, a migration, Postgres, Redis, MinIO and a proxy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'migrate', 'minio', 'minio-init', 'postgres', 'proxy', 'redis', 'worker']);
    expect(reshootServices.map(([n]) => n).sort()).toEqual(['api', 'migrate', 'worker']);
    expect(compose.services.api!.deploy?.replicas).toBe(2);
    expect(interpolate(String(compose.services.worker!.deploy?.replicas), dotenv)).toBe(dotenv.RESHOOT_WORKERS);
  });

  it.each(reshootServices)('%s runs a reshoot command with flags the CLI has', (_name, service) => {
    const [name, ...args] = service.command!;
    const command = buildProgram().commands.find((c) => c.name() === name);
    expect(command, `reshoot ${name}`).toBeDefined();
    for (const flag of args.filter((a) => a.startsWith('--'))) {
      expect(command!.options.map((o) => o.long), `reshoot ${name} ${flag}`).toContain(flag);
    }
  });

  it.each(reshootServices)('%s starts with settings the config accepts: Postgres, the MinIO bucket, path-style, the shared secret', (_name, service) => {
    const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), dotenv)]));
    // the image's own settings (ENV lines of the Dockerfile) come first, compose's on top
    const imageEnv = Object.fromEntries([...dockerfile.matchAll(/^\s*(RESHOOT_[A-Z_]+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1]!, m[2]!]));
    const config = loadConfig({ ...imageEnv, ...env });
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.database).toMatchObject({ kind: 'postgres' });
    expect(config.blobs).toMatchObject({ kind: 's3', bucket: 'reshoot', prefix: 'blobs', endpoint: 'http://minio:9000', forcePathStyle: true, presign: false });
    expect(config.signing.secret).toBe(dotenv.RESHOOT_SIGNING_SECRET);
    expect(config.http.publicUrl).toBe(dotenv.RESHOOT_PUBLIC_URL);
  });

  it('names every RESHOOT_* variable the config does not read yet in deploy/README.md as not honoured', () => {
    const configSource = read('src/config.ts');
    const names = new Set(reshootServices.flatMap(([, s]) => Object.keys(s.environment ?? {})).filter((n) => n.startsWith('RESHOOT_')));
    const unread = [...names].filter((n) => !configSource.includes(`${n}:`));
    for (const n of unread) expect(deployReadme).toMatch(new RegExp(`\\| \`${n}\` \\| not yet`));
    // and the other way: a variable the config has learned to read is no longer listed as not yet
    const listed = [...deployReadme.matchAll(/^\| `(RESHOOT_[A-Z0-9_]+)` \| not yet/gm)].map((m) => m[1]!);
    expect(listed.sort(), 'deploy/README.md calls these "not yet" honoured: once src/config.ts reads one, say so in its table').toEqual(unread.sort());
  });
});

describe('deploy/Dockerfile', () => {
  it('installs with npm ci, whose prepare script builds what the image copies, and starts as npm start does', () => {
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(pkg.scripts.prepare).toBe('npm run build && npm run build:web');
    expect(pkg.scripts.build).toContain('tsconfig.build.json');
    expect(JSON.parse(read('tsconfig.build.json')).compilerOptions.outDir).toBe('dist');
    expect(read('web/vite.config.ts')).toContain("outDir: 'dist'");
    for (const dir of ['bin', 'dist', 'web/dist', 'node_modules']) expect(dockerfile).toContain(`/app/${dir} ./${dir}`);
    // ENTRYPOINT + CMD is `npm start`
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect([...entry, ...cmd].join(' ')).toBe(pkg.scripts.start);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('the proxy sends to the API service on the port the image listens on', () => {
    const port = /RESHOOT_PORT=(\d+)/.exec(dockerfile)![1];
    expect(read('deploy/nginx.conf')).toContain(`server api:${port};`);
  });
});
