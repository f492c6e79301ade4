import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setupBackend } from '../helpers/tf.ts';
import { main } from '../../src/cli/main.ts';
import { ovdMnistValImages } from '../infer/tinyModel.ts';
import { makeOnnxTestModelDir, tempDir } from './onnxModel.ts';

let weights: string;
let images: string[];
let work: string;

before(async () => {
  await setupBackend();
  weights = makeOnnxTestModelDir();
  images = await ovdMnistValImages();
  work = tempDir('detclip-onnx-cli-');
});

/** Runs `detclip ...` in this process, capturing stderr and the exit code. */
async function detclip(...args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((c: string) => (err.push(String(c)), true)) as typeof process.stderr.write;
  const saved = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'detclip', ...args]);
    return { code: Number(process.exitCode ?? 0), stderr: err.join('') };
  } finally {
    process.stderr.write = write;
    process.exitCode = saved;
  }
}

interface Results { annotations: { image_id: number; category_id: number; score: number; bbox: number[] }[] }

test('export-onnx, then detect --engine onnx gives the --engine tfjs results', async () => {
  const out = path.join(work, 'export');
  const r = await detclip('export-onnx', '--weights', weights, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^exported .* image\.onnx [\d.]+ MB, text\.onnx [\d.]+ MB, opset 19/);
  assert.deepEqual(fs.readdirSync(out).sort(), ['image.onnx', 'manifest.json', 'text.onnx']);
  const run = async (engine: string, w: string): Promise<Results> => {
    const res = path.join(work, `${engine}.json`);
    const d = await detclip('--threads', '1', 'detect', '--engine', engine, '--weights', w, '--vocab', 'seven,coat,red dress',
      '--score-threshold', '0.001', '--max-detections', '10', '--out', res, ...images);
    assert.equal(d.code, 0, d.stderr);
    return JSON.parse(fs.readFileSync(res, 'utf8')) as Results;
  };
  const a = await run('onnx', out);
  const b = await run('tfjs', weights);
  assert.equal(a.annotations.length, b.annotations.length);
  assert.ok(a.annotations.length >= 10);
  a.annotations.forEach((x, i) => {
    const y = b.annotations[i]!;
    assert.deepEqual([x.image_id, x.category_id], [y.image_id, y.category_id]);
    assert.ok(Math.abs(x.score - y.score) < 1e-3, `score ${x.score} vs ${y.score}`);
    x.bbox.forEach((v, j) => assert.ok(Math.abs(v - y.bbox[j]!) < 1e-2, `bbox ${x.bbox} vs ${y.bbox}`));
  });
});

test('CLI errors: bad --engine, onnx engine on a model dir, export into a foreign dir: one line, exit 1, no output', async () => {
  const res = path.join(work, 'never.json');
  let r = await detclip('detect', '--engine', 'tensorrt', '--weights', weights, '--vocab', 'a', '--out', res, images[0]!);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^detclip: error: --engine must be tfjs or onnx, got 'tensorrt'\n$/);
  r = await detclip('detect', '--engine', 'onnx', '--weights', weights, '--vocab', 'a', '--out', res, images[0]!);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^detclip: error: .*manifest\.json: missing.*\n$/);
  assert.ok(!fs.existsSync(res));
  const foreign = tempDir('detclip-onnx-cli-f-');
  fs.writeFileSync(path.join(foreign, 'x'), '');
  r = await detclip('export-onnx', '--weights', weights, '--out', foreign);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^detclip: error: .*not empty.*\n$/);
  assert.deepEqual(fs.readdirSync(foreign), ['x']);
});
