import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

test('detclip --help lists the sub-commands', () => {
  const out = execFileSync(process.execPath, ['bin/detclip.js', '--help'], { encoding: 'utf8' });
  for (const c of ['demo', 'train', 'eval', 'eval-json', 'detect', 'data', 'embed-text', 'model']) assert.match(out, new RegExp(`\\b${c}\\b`));
});
