import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const planDir = path.dirname(fileURLToPath(import.meta.url));

describe('the planner', () => {
  // The engine, the CLI and the web studio's bundle all import it, so it stands on contract/ alone.
  it('imports only its own files and contract/', () => {
    const outside = readdirSync(planDir)
      .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
      .flatMap((name) => ts.preProcessFile(readFileSync(path.join(planDir, name), 'utf8'), true, true).importedFiles
        .map((f) => f.fileName)
        .filter((spec) => !/^\.\/[\w-]+\.js$/.test(spec) && !/^\.\.\/contract\/[\w-]+\.js$/.test(spec))
        .map((spec) => `${name} imports ${spec}`));
    expect(outside).toEqual([]);
  });
});
