// The package as a user gets it: `npm pack`, install the tarball into a project outside the repository, then
// use it from plain Node ESM JavaScript (no loader), through `npx detclip`, and from TypeScript.
// Needs the npm registry for the package's dependencies; skipped, saying so, only when it is unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTinyModelDir, ovdMnistValImages } from '../infer/tinyModel.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ENETUNREACH|network/i;

function run(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_yes: 'true', DETCLIP_SKIP_NATIVE: '1' }, timeout: 240_000 });
  return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
}

test('npm pack -> install -> import, CLI and types work outside the repository', { timeout: 300_000 }, async (t) => {
  // dist/ comes from `npm test`'s build step; packing without scripts keeps it stable for the CLI tests running beside this one
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'index.js')), 'dist/ is missing: run `npm run build` first');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-pack-'));
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }))[0];
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    for (const f of files) assert.match(f, /^(dist\/|bin\/|native\/(src\/|binding\.gyp$|build\.mjs$)|README\.md$|LICENSE$|package\.json$)/, `unexpected file in the tarball: ${f}`);
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), 'dist/index.{js,d.ts} missing');

    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const inst = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, packed.filename)], app);
    if (inst.code !== 0 && OFFLINE.test(inst.out)) {
      t.skip(`npm registry unreachable, install skipped: ${inst.out.trim().split('\n').at(-1)}`);
      return;
    }
    assert.equal(inst.code, 0, inst.out);

    // (1) plain JS, no loader: createDetector + detect with a vocabulary in the call
    const model = makeTinyModelDir({ resize: { mode: 'square', size: 32 } });
    const [image] = await ovdMnistValImages();
    const script = `
      import { createDetector, evaluateCoco, DetclipError } from 'detclip';
      const det = await createDetector({ weights: ${JSON.stringify(model)} });
      const out = await det.detect(${JSON.stringify(image)}, ['seven', 'ankle boot', 'red umbrella'], { scoreThreshold: 0 });
      det.dispose();
      let named = '';
      try { await createDetector({ weights: '/nonexistent-model-dir' }); } catch (e) { named = e instanceof DetclipError ? 'DetclipError' : e.name; }
      console.log(JSON.stringify({ n: out.length, labels: [...new Set(out.map((d) => d.label))], ev: typeof evaluateCoco, named }));`;
    fs.writeFileSync(path.join(app, 'use.mjs'), script);
    const use = run('node', ['use.mjs'], app);
    assert.equal(use.code, 0, use.out);
    const res = JSON.parse(use.out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)!);
    assert.ok(res.n > 0, use.out);
    for (const l of res.labels) assert.ok(['seven', 'ankle boot', 'red umbrella'].includes(l), l);
    assert.equal(res.ev, 'function');
    assert.equal(res.named, 'DetclipError');

    // internal modules are not reachable through `exports`
    const internal = run('node', ['-e', "import('detclip/dist/ops/nms.js').then(() => console.log('reachable'), (e) => console.log(e.code))"], app);
    assert.match(internal.out, /ERR_PACKAGE_PATH_NOT_EXPORTED/);

    // (2) the CLI with plain node
    const help = run('npx', ['detclip', '--help'], app);
    assert.equal(help.code, 0, help.out);
    for (const c of ['demo', 'train', 'detect', 'eval']) assert.match(help.out, new RegExp(`\\b${c}\\b`));

    // (3) TypeScript: the public types, with node16 and bundler resolution
    fs.writeFileSync(path.join(app, 'use.ts'),
      "import { createDetector, type Detection } from 'detclip';\n" +
      "export const f = async (): Promise<Detection[]> => (await createDetector({ weights: 'm' })).detect('a.png', ['dog']);\n");
    const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
    for (const [module, resolution] of [['node16', 'node16'], ['esnext', 'bundler']]) {
      const r = run(tsc, ['--noEmit', '--strict', '--skipLibCheck', '--types', '', '--module', module!, '--moduleResolution', resolution!, '--target', 'es2022', 'use.ts'], app);
      assert.equal(r.code, 0, `${resolution}: ${r.out}`);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
