// The library never reaches back into the command line: no module outside src/cli imports from src/cli,
// and only src/cli exits the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '../../src');

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative import specifiers of a file (static imports, re-exports and dynamic imports). */
function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.[^'"]+)['"]/g)) out.push(m[1]!);
  return out;
}

const CLI = path.join(SRC, 'cli') + path.sep;
const library = tsFiles(SRC).filter((f) => !f.startsWith(CLI));

test('the import scan sees the imports it should (self-check)', () => {
  const detector = importsOf(path.join(SRC, 'infer', 'detector.ts'));
  assert.ok(detector.includes('../backend/index.ts'), detector.join(', '));
  assert.ok(library.length > 50, `${library.length} library files`);
});

test('no library module imports src/cli', () => {
  const offenders = library.flatMap((f) =>
    importsOf(f)
      .filter((spec) => path.resolve(path.dirname(f), spec).startsWith(CLI))
      .map((spec) => `${path.relative(SRC, f)} -> ${spec}`));
  assert.deepEqual(offenders, []);
});

test('no library module calls process.exit', () => {
  const offenders = library.filter((f) => /\bprocess\.exit\s*\(/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(SRC, f));
  assert.deepEqual(offenders, []);
});

test('no library module prints (console.*, process.stdout/stderr.write)', () => {
  const offenders = library
    .filter((f) => /\bconsole\.(log|error|warn|info)\s*\(|process\.(stdout|stderr)\.write\s*\(/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(SRC, f));
  assert.deepEqual(offenders, []);
});
