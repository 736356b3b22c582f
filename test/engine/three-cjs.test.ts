import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// From the TypeScript sources the engine threads load their module the way piscina does, with
// `require` through tsx (src/worker/engine-pool.ts): three.js must still be reached as an ES module,
// or every server process prints THREE_CJS_DEPRECATED on its first environment.
describe('the environments read from source through require', () => {
  it('decode an HDR photograph without a deprecation warning', async () => {
    const script = `require(${JSON.stringify(path.join(ROOT, 'src/engine/raster/hdri.ts'))}).loadEnvironment('studio').then((h) => console.log('decoded', h.width, h.height))`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT });
    expect(stdout.trim()).toBe('decoded 512 256');
    expect(stderr).not.toMatch(/DeprecationWarning|THREE_CJS/);
  });
});
