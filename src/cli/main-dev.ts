// Runs the CLI from the TypeScript sources: `node --import tsx src/cli/main-dev.ts <args>`.
// bin/reshoot.js runs the compiled dist/ the same way; tests and benches use this one.
import { run } from './index.js';

run(process.argv).catch((err: unknown) => {
  process.stderr.write(`reshoot: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
