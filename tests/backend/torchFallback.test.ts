// A native module that cannot load (corrupt, built for another Node, libtorch missing) means one notice line and
// the wasm engine, never a crash; asking for --backend torch explicitly is a one-line error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'detclip.js');

test('a broken native module falls back to wasm with one line; --backend torch then fails with one line', { skip: fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js')) ? false : 'dist/ not built' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-addon-'));
  try {
    const bogus = path.join(dir, 'detclip_torch.node');
    fs.writeFileSync(bogus, 'not an ELF file');
    const env: NodeJS.ProcessEnv = { ...process.env, DETCLIP_TORCH_ADDON: bogus };
    delete env.DETCLIP_BACKEND;
    const r = spawnSync(process.execPath, [CLI, 'env'], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^engine: wasm$/m);
    const notice = r.stderr.trim().split('\n');
    assert.equal(notice.length, 1, `one notice line, got: ${r.stderr}`);
    assert.match(notice[0]!, /using the wasm engine .*detclip_torch\.node.*apt-get install libtorch-dev/);
    const t = spawnSync(process.execPath, [CLI, '--backend', 'torch', 'env'], { env, encoding: 'utf8' });
    assert.equal(t.status, 1);
    assert.equal(t.stderr.trim().split('\n').length, 1, t.stderr);
    assert.match(t.stderr, /^detclip: error: backend 'torch': native engine not available/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
