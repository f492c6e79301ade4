import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { setupBackend } from '../helpers/tf.ts';
import { main } from '../../src/cli/main.ts';
import { makeTinyModelDir, ovdMnistValImages, tempDir } from '../infer/tinyModel.ts';

let weights: string;
let images: string[];
let work: string;

before(async () => {
  await setupBackend();
  weights = makeTinyModelDir();
  images = await ovdMnistValImages();
  work = tempDir('detclip-detect-cli-');
});

/**
 * Runs `detclip detect ...` in this process (a CLI start costs seconds), capturing stderr and the exit code.
 * (stdout is the test reporter's: these runs use --out; the stdout path is tested on the real binary below.)
 */
async function detclip(...args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
  const saved = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'detclip', 'detect', ...args]);
    return { code: Number(process.exitCode ?? 0), stderr: err.join('') };
  } finally {
    process.stderr.write = write;
    process.exitCode = saved;
  }
}

test('detect: a folder and a file -> COCO-style results (1-based category ids in vocabulary order) and annotated PNGs', async () => {
  const folder = path.join(work, 'in');
  fs.mkdirSync(path.join(folder, 'sub'), { recursive: true });
  fs.copyFileSync(images[0]!, path.join(folder, 'a.png'));
  fs.writeFileSync(path.join(folder, 'sub', 'b.jpg'), await sharp(images[1]!).jpeg().toBuffer());
  const out = path.join(work, 'res', 'results.json');
  const vis = path.join(work, 'vis');
  const r = await detclip('--weights', weights, '--vocab', 'seven, coat,red dress', '--score-threshold', '0.001', '--max-detections', '5',
    '--out', out, '--save-vis', vis, folder, images[2]!);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /detected 15 objects in 3 images/);
  const res = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(res.categories, [{ id: 1, name: 'seven' }, { id: 2, name: 'coat' }, { id: 3, name: 'red dress' }]);
  assert.deepEqual(res.images.map((im: { file_name: string }) => im.file_name), [path.join(folder, 'a.png'), path.join(folder, 'sub', 'b.jpg'), images[2]]);
  assert.deepEqual(res.images.map((im: { width: number; height: number }) => [im.width, im.height]), [[128, 128], [128, 128], [128, 128]]);
  assert.equal(res.annotations.length, 15);
  for (const a of res.annotations) {
    assert.ok([1, 2, 3].includes(a.category_id) && [1, 2, 3].includes(a.image_id));
    const [x, y, w, h] = a.bbox;
    assert.ok(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= 128.01 && y + h <= 128.01, `bbox ${a.bbox}`);
    assert.ok(a.score > 0 && a.score < 1);
  }
  assert.deepEqual(fs.readdirSync(vis).sort(), ['000002.png', 'a.png', 'b.png']);
  const meta = await sharp(path.join(vis, 'b.png')).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 384, 384]);
  assert.deepEqual(fs.readdirSync(path.dirname(out)), ['results.json'], 'no temp files left');
});

test('detect errors: one line, exit 1, nothing written', async () => {
  const out = path.join(work, 'err', 'r.json');
  const vis = path.join(work, 'err', 'vis');
  const expectError = async (args: string[], re: RegExp): Promise<void> => {
    const r = await detclip(...args, '--out', out, '--save-vis', vis);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!fs.existsSync(out) && !fs.existsSync(vis), 'nothing written');
  };
  await expectError(['--weights', path.join(work, 'no-model'), '--vocab', 'dog', images[0]!], /^detclip: error: .*no-model: weights directory not found$/m);
  // config/weights mismatch: the config says wider FPN channels than the saved tensors have
  const bad = makeTinyModelDir();
  const cfgFile = path.join(bad, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.model.fpn.outChannels = 32;
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  await expectError(['--weights', bad, '--vocab', 'dog', images[0]!], /^detclip: error: .*model\.safetensors: tensor '.+' has shape \[.+\] but the model expects \[.+\]$/m);
  const broken = path.join(work, 'broken.png');
  fs.writeFileSync(broken, fs.readFileSync(images[1]!).subarray(0, 200)); // truncated PNG
  await expectError(['--weights', weights, '--vocab', 'dog', '--score-threshold', '0.001', images[0]!, broken], /^detclip: error: .*broken\.png: cannot read image \(.+\)$/m);
  await expectError(['--weights', weights, '--vocab', ' , ', images[0]!], /^detclip: error: --vocab: the vocabulary is empty/m);
  const emptyFile = path.join(work, 'empty.txt');
  fs.writeFileSync(emptyFile, '\n# nothing\n');
  await expectError(['--weights', weights, '--vocab-file', emptyFile, images[0]!], /^detclip: error: .*empty\.txt: the vocabulary is empty/m);
  await expectError(['--weights', weights, images[0]!], /^detclip: error: no vocabulary: give --vocab "a,b,c" or --vocab-file FILE$/m);
  await expectError(['--weights', weights, '--vocab', 'dog', path.join(work, 'missing.png')], /^detclip: error: .*missing\.png: no such image file or folder$/m);
});

test('the detclip binary: --vocab-file with COCO categories keeps their ids; without --out the JSON goes to stdout', () => {
  const cats = path.join(work, 'cats.json');
  fs.writeFileSync(cats, JSON.stringify({ categories: [{ id: 7, name: 'seven' }, { id: 23, name: 'coat' }] }));
  const r = spawnSync(process.execPath, ['bin/detclip.js', 'detect', '--weights', weights, '--vocab-file', cats,
    '--score-threshold', '0.001', '--max-detections', '4', images[0]!], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.deepEqual(res.categories, [{ id: 7, name: 'seven' }, { id: 23, name: 'coat' }]);
  assert.equal(res.annotations.length, 4);
  for (const a of res.annotations) assert.ok([7, 23].includes(a.category_id));
});
