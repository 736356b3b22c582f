#!/usr/bin/env node
// The installed CLI runs the compiled sources; `npm ci` builds them (prepare).
import { run } from '../dist/cli/index.js';

run(process.argv).catch((err) => {
  process.stderr.write(`reshoot: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
