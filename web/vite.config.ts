import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// The studio imports the model rules and the planner straight from ../src, so the browser applies
// exactly the rules the server does; the dev server must be allowed to read them.
export default defineConfig({
  root: webRoot,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { fs: { allow: [repoRoot] } },
});
