import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every project file `entry` reaches through relative imports, type-only ones included. */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) visit(path.resolve(path.dirname(file), fileName.replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return [...seen].map((f) => path.relative(srcDir, f));
}

describe('the SDK', () => {
  it('imports nothing from the server but contract/', () => {
    const files = reachable(path.join(srcDir, 'sdk', 'index.ts'));
    expect(files).toContain(path.join('contract', 'errors.ts'));
    expect(files.filter((f) => !f.startsWith(`sdk${path.sep}`) && !f.startsWith(`contract${path.sep}`))).toEqual([]);
  });
});
