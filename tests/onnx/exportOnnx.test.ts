import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { exportOnnx } from '../../src/onnx/exportOnnx.ts';
import { EXPORT_FILES, readOnnxExport } from '../../src/onnx/manifest.ts';
import { OnnxGraph } from '../../src/onnx/onnxGraph.ts';
import { hwioToOihw, oihwShape } from '../../src/onnx/onnxLayers.ts';
import { nhwcToNchw, openSession, runImageGraph, runTextGraph } from '../../src/onnx/ortSession.ts';
import { deformConv2d } from '../../src/ops/deformConv2d.ts';
import { loadModelDir } from '../../src/model/detclip.ts';
import { l2Normalize } from '../../src/model/head/atssHead.ts';
import { tokenize } from '../../src/model/text/tokenizer.ts';
import { UserError } from '../../src/errors.ts';
import { makeOnnxTestModelDir, tempDir } from './onnxModel.ts';

let weights: string;
let out: string;

before(async () => {
  await setupBackend();
  weights = makeOnnxTestModelDir();
  out = path.join(tempDir('detclip-onnx-'), 'export');
  await exportOnnx(weights, out);
});

/** Rejects with a UserError whose message matches `re`. */
async function rejectsUser(fn: () => unknown, re: RegExp): Promise<void> {
  await assert.rejects(async () => { await fn(); }, (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
}

/** Rows of the same element in ORT (NCHW) vs tfjs (NHWC) order: DeformConv alone, through a one-node graph. */
async function deformConvOnnx(x: tf.Tensor4D, off: tf.Tensor4D, mask: tf.Tensor4D, w: tf.Tensor4D, swapOffsets: boolean): Promise<Float32Array> {
  const [b, h, wd, ci] = x.shape;
  const k = 9;
  const g = new OnnxGraph('dcn');
  const xi = g.input('x', 'float32', [b, ci, h, wd]);
  const oi = g.input('offset', 'float32', [b, 2 * k, h, wd]);
  const mi = g.input('mask', 'float32', [b, k, h, wd]);
  const wi = g.constF('w', hwioToOihw(w.dataSync() as Float32Array, w.shape), oihwShape(w.shape));
  const y = g.node('DeformConv', [xi, wi, oi, '', mi], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, offset_group: 1 });
  g.output(y, 'y', 'float32', [b, w.shape[3], h, wd]);
  const sess = await ort.InferenceSession.create(g.toBytes(19));
  const nchw = (t: tf.Tensor4D): Float32Array => tf.tidy(() => tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array);
  let o = off;
  if (swapOffsets) o = tf.tidy(() => tf.reshape(tf.reverse(tf.reshape(off, [b, h, wd, k, 2]), -1), off.shape)) as tf.Tensor4D; // (dx, dy)
  const res = await sess.run({
    x: new ort.Tensor('float32', nchw(x), [b, ci, h, wd]),
    offset: new ort.Tensor('float32', nchw(o), [b, 2 * k, h, wd]),
    mask: new ort.Tensor('float32', nchw(mask), [b, k, h, wd]),
  });
  if (o !== off) o.dispose();
  await sess.release();
  const co = w.shape[3];
  return tf.tidy(() => tf.transpose(tf.tensor4d(res.y!.data as Float32Array, [b, co, h, wd]), [0, 2, 3, 1]).dataSync() as Float32Array);
}

test('ONNX DeformConv equals deformConv2d (offsets in (dy, dx) order per tap); swapped (dx, dy) does not', async () => {
  const [x, off, mask, w] = [tf.randomNormal([2, 7, 9, 5], 0, 1, 'float32', 1), tf.randomNormal([2, 7, 9, 18], 0, 1.5, 'float32', 2),
    tf.sigmoid(tf.randomNormal([2, 7, 9, 9], 0, 1, 'float32', 3)), tf.randomNormal([3, 3, 5, 4], 0, 0.5, 'float32', 4)] as tf.Tensor4D[];
  const want = tf.tidy(() => deformConv2d(x!, off!, mask!, w!, null, { stride: 1, padding: 1, dilation: 1, offsetGroups: 1 }).dataSync() as Float32Array);
  assertClose(await deformConvOnnx(x!, off!, mask!, w!, false), want, { atol: 1e-4, what: 'DeformConv' });
  const swapped = await deformConvOnnx(x!, off!, mask!, w!, true);
  const worst = swapped.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
  assert.ok(worst > 0.1, `swapping dy/dx must change the output (max diff ${worst})`);
  tf.dispose([x!, off!, mask!, w!]);
});

/** image.onnx of `dir` against encodeImage at the given [B, H, W] sizes. */
async function compareImage(dir: string, exportDir: string, sizes: [number, number, number][]): Promise<void> {
  const sess = await openSession(readOnnxExport(exportDir).image, 'image.onnx', 1);
  const { model } = loadModelDir(dir);
  try {
    for (const [b, h, w] of sizes) {
      const pxT = tf.randomNormal([b, h, w, 3], 0, 1, 'float32', h);
      const px = pxT.dataSync() as Float32Array;
      pxT.dispose();
      const got = await runImageGraph(sess, px, b, h, w);
      const ref = tf.tidy(() => {
        const enc = model.image.encodeImage(tf.tensor4d(px, [b, h, w, 3]), false);
        return [enc.boxes, enc.centerness, enc.regionEmbeddings];
      });
      const [boxes, ctr, emb] = ref.map((t) => t.dataSync() as Float32Array);
      tf.dispose(ref);
      assert.equal(got.k, model.image.anchorsFor(h, w).anchors.strides.length);
      assertClose(got.boxes, boxes!, { atol: 1e-2, rtol: 0, what: `boxes ${b}x${h}x${w}` });
      assertClose(got.centerness, ctr!, { atol: 1e-4, rtol: 0, what: `centerness ${b}x${h}x${w}` });
      assertClose(got.embeddings, emb!, { atol: 1e-4, rtol: 0, what: `region embeddings ${b}x${h}x${w}` });
    }
  } finally {
    model.dispose();
    await sess.release();
  }
}

test('image.onnx equals encodeImage: boxes, centerness, region embeddings (dynamic B, H, W; non-square)', async () => {
  await compareImage(weights, out, [[2, 64, 96], [1, 96, 64]]);
});

test('Swin backbone: image.onnx equals encodeImage with window padding, shifted windows and one-window maps', async () => {
  const dir = makeOnnxTestModelDir({ preset: 'swin-t', backbone: { embedDim: 8, depths: [2, 2, 2, 2], heads: [1, 2, 2, 2], window: 3 } });
  const dest = path.join(tempDir('detclip-onnx-swin-'), 'e');
  await exportOnnx(dir, dest);
  // 200x136: patch map 50x34 (padded to windows of 3); 32x32: later stages fit in one window (no shift there)
  await compareImage(dir, dest, [[2, 96, 160], [1, 200, 136], [1, 32, 32]]);
});

test('ResNet (folded BN, downsample), plain-conv head with ReLU regression: image.onnx equals encodeImage', async () => {
  const backbone = { type: 'resnet', block: 'bottleneck', depths: [1, 2, 1, 1], planes: [4, 8, 8, 8], frozenBn: true, freezeBnAffine: false, frozenStages: 0 };
  for (const [bb, head] of [[backbone, {}], [{ ...backbone, block: 'basic' }, { useDcn: false, regActivation: 'relu' }]] as const) {
    const dir = makeOnnxTestModelDir({ backbone: bb, head });
    const dest = path.join(tempDir('detclip-onnx-rn-'), 'e');
    await exportOnnx(dir, dest);
    await compareImage(dir, dest, [[2, 96, 160], [1, 64, 64]]);
  }
});

test('nhwcToNchw moves channels to planes', () => {
  const x = Float32Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => i); // [2, 2, 3, 3]
  const want = tf.tidy(() => tf.transpose(tf.tensor4d(x, [2, 2, 3, 3]), [0, 3, 1, 2]).dataSync());
  assert.deepEqual([...nhwcToNchw(x, 2, 2, 3)], [...want]);
});

for (const text of [{}, { pooling: 'eot', activation: 'gelu' }, { pooling: 'mean' }]) {
  test(`text.onnx equals the tfjs text encoder, normalised, to 1e-4 (${JSON.stringify(text)})`, async () => {
    const dir = Object.keys(text).length ? makeOnnxTestModelDir({ text }) : weights;
    const dest = Object.keys(text).length ? path.join(tempDir('detclip-onnx-t-'), 'e') : out;
    if (dest !== out) await exportOnnx(dir, dest);
    const exp = readOnnxExport(dest);
    const sess = await openSession(exp.text, 'text.onnx', 1);
    const { model } = loadModelDir(dir);
    const texts = ['cat', 'ankle boot, a shoe reaching just above the ankle, laced or buckled, leather', '', 'Zebra  crossing & café'];
    const L = model.cfg.text.contextLength;
    const got = await runTextGraph(sess, tokenize(texts, L), texts.length, L);
    const want = tf.tidy(() => l2Normalize(model.text.encodeText(texts, { cache: false })).dataSync() as Float32Array);
    assertClose(got, want, { atol: 1e-4, rtol: 0, what: 'text embeddings' });
    model.dispose();
    await sess.release();
  });
}

test('manifest: format, opset, tokenizer, scoring, inference settings, sizes and validation numbers', () => {
  const m = readOnnxExport(out).manifest;
  assert.equal(m.format, 'detclip-onnx');
  assert.equal(m.opset, 19);
  assert.equal(m.onnxruntime, ort.env.versions.node);
  assert.deepEqual(m.tokenizer, { kind: 'clip-bpe', clean: 'lower', contextLength: 16, sot: 49406, eot: 49407, pad: 0 });
  assert.deepEqual(m.image.strides, [8, 16, 32]);
  assert.deepEqual(m.inference.resize, { mode: 'square', size: 64 });
  assert.equal(m.files.image.bytes, fs.statSync(path.join(out, 'image.onnx')).size);
  assert.equal(m.files.text.bytes, fs.statSync(path.join(out, 'text.onnx')).size);
  const { model } = loadModelDir(weights);
  assert.equal(m.scoring.logitBias, (model.image.head.logitBias.dataSync() as Float32Array)[0]);
  model.dispose();
  for (const [k, v] of Object.entries(m.validation)) assert.ok(v >= 0 && v < 1e-3, `validation ${k} = ${v}`);
});

test('export leaves no partial output when validation fails or the target is foreign', async () => {
  const parent = tempDir('detclip-onnx-fail-');
  const dest = path.join(parent, 'export');
  await rejectsUser(() => exportOnnx(weights, dest, { beforeValidate: (tmp) => fs.truncateSync(path.join(tmp, EXPORT_FILES.text), 100) }), /text\.onnx/);
  assert.deepEqual(fs.readdirSync(parent), [], 'nothing left beside the target');
  // an earlier export in place survives a failed re-export unchanged
  await exportOnnx(weights, dest);
  const before = fs.readFileSync(path.join(dest, EXPORT_FILES.manifest), 'utf8');
  await rejectsUser(() => exportOnnx(weights, dest, { beforeValidate: (tmp) => fs.writeFileSync(path.join(tmp, EXPORT_FILES.image), 'not onnx') }), /image\.onnx/);
  assert.equal(fs.readFileSync(path.join(dest, EXPORT_FILES.manifest), 'utf8'), before);
  assert.deepEqual(fs.readdirSync(parent), ['export']);
  const foreign = tempDir('detclip-onnx-foreign-');
  fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
  await rejectsUser(() => exportOnnx(weights, foreign), /not empty/);
  assert.deepEqual(fs.readdirSync(foreign), ['notes.txt']);
});

test('reading an export: another version, a missing file, a mismatched file are one UserError naming the file', async () => {
  const copy = (): string => {
    const d = path.join(tempDir('detclip-onnx-bad-'), 'e');
    fs.cpSync(out, d, { recursive: true });
    return d;
  };
  const m = (d: string): string => path.join(d, EXPORT_FILES.manifest);
  let d = copy();
  const raw = JSON.parse(fs.readFileSync(m(d), 'utf8'));
  fs.writeFileSync(m(d), JSON.stringify({ ...raw, version: 2 }));
  await rejectsUser(() => readOnnxExport(d), new RegExp(`${m(d)}: manifest version 2 is not supported`));
  d = copy();
  fs.writeFileSync(m(d), JSON.stringify({ ...raw, format: 'other' }));
  await rejectsUser(() => readOnnxExport(d), /not a detclip ONNX manifest/);
  d = copy();
  fs.rmSync(path.join(d, 'text.onnx'));
  await rejectsUser(() => readOnnxExport(d), new RegExp(`${path.join(d, 'text.onnx')}: missing`));
  d = copy();
  fs.rmSync(m(d));
  await rejectsUser(() => readOnnxExport(d), new RegExp(`${m(d)}: missing`));
  d = copy();
  const img = fs.readFileSync(path.join(d, 'image.onnx'));
  img[img.length - 1] ^= 1; // same size, other content
  fs.writeFileSync(path.join(d, 'image.onnx'), img);
  await rejectsUser(() => readOnnxExport(d), new RegExp(`${path.join(d, 'image.onnx')}: SHA-256 does not match`));
  d = copy();
  fs.copyFileSync(path.join(out, 'text.onnx'), path.join(d, 'image.onnx')); // another graph in its place
  await rejectsUser(() => readOnnxExport(d), new RegExp(`${path.join(d, 'image.onnx')}: \\d+ bytes but`));
  d = copy();
  fs.writeFileSync(m(d), JSON.stringify({ ...raw, opset: 'x' }));
  await rejectsUser(() => readOnnxExport(d), new RegExp(m(d)));
});

test('exportOnnx leaves no tensors behind', async () => {
  const dest = path.join(tempDir('detclip-onnx-leak-'), 'e');
  await exportOnnx(weights, dest); // warm-up
  await expectNoLeak(() => exportOnnx(weights, dest));
});
