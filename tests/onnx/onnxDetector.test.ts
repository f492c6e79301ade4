import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { createDetector, type Detection, type Detector } from '../../src/infer/detector.ts';
import type { OnnxDetector } from '../../src/onnx/onnxDetector.ts';
import { exportOnnx } from '../../src/onnx/exportOnnx.ts';
import { l2Normalize } from '../../src/model/head/atssHead.ts';
import { UserError } from '../../src/errors.ts';
import { ovdMnistValImages } from '../infer/tinyModel.ts';
import { makeOnnxTestModelDir, tempDir } from './onnxModel.ts';

let images: string[];
let weights: string;
let exported: string;
let tfjs: Detector;
let onnx: OnnxDetector;
const VOCAB = ['seven', 'coat', 'red dress', 'ankle boot'];
const LOW = { scoreThreshold: 0.001, maxDetections: 30 }; // a random model scores ~0.01 * centerness

before(async () => {
  await setupBackend();
  images = await ovdMnistValImages();
  weights = makeOnnxTestModelDir();
  exported = path.join(tempDir('detclip-onnx-det-'), 'export');
  await exportOnnx(weights, exported);
  tfjs = await createDetector({ weights });
  onnx = await createDetector({ weights: exported, engine: 'onnx', threads: 1 });
  tfjs.setVocabulary(VOCAB);
  onnx.setVocabulary(VOCAB);
});
after(() => { tfjs.dispose(); onnx.dispose(); });

/** Same detections in the same order: labels exact, boxes to 1e-2 px, scores to 1e-3. */
function assertSameDetections(a: Detection[], b: Detection[], what: string): void {
  assert.equal(a.length, b.length, `${what}: ${a.length} vs ${b.length} detections`);
  assert.deepEqual(a.map((d) => d.label), b.map((d) => d.label), `${what}: ranking`);
  assertClose(a.map((d) => d.score), b.map((d) => d.score), { atol: 1e-3, rtol: 0, what: `${what} scores` });
  const boxes = (ds: Detection[]): number[] => ds.flatMap((d) => [d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax]);
  assertClose(boxes(a), boxes(b), { atol: 1e-2, rtol: 0, what: `${what} boxes` });
}

test('onnx engine = tfjs engine on OVD-MNIST images: same boxes (1e-2 px), scores (1e-3), ranking', async () => {
  const want = await tfjs.detectBatch(images, LOW);
  const got = await onnx.detectBatch(images, LOW);
  assert.ok(want.every((d) => d.length > 5), 'enough detections to compare a ranking');
  images.forEach((_, i) => assertSameDetections(got[i]!, want[i]!, `image ${i}`));
  // batched and one at a time agree too (batching shares the same helpers)
  assertSameDetections(await onnx.detect(images[1]!, LOW), got[1]!, 'single image');
});

test('onnx engine: text embeddings equal the tfjs encoder (normalised) to 1e-4; cached per vocabulary', async () => {
  const emb = await onnx.encodeVocabulary();
  const want = tf.tidy(() => l2Normalize(tfjs.conceptEmbeddings!).dataSync() as Float32Array);
  assertClose(emb.dataSync() as Float32Array, want, { atol: 1e-4, rtol: 0, what: 'concept embeddings' });
  await onnx.detect(images[0]!, VOCAB, LOW); // the same vocabulary: no new text pass
  assert.equal(onnx.conceptEmbeddings, emb, 'same vocabulary reuses the cache');
  await onnx.detect(images[0]!, ['bag'], LOW);
  assert.ok(emb.isDisposed, 'a new vocabulary replaces (and frees) the cache');
  assert.deepEqual(onnx.vocabulary, ['bag']);
  onnx.setVocabulary(VOCAB);
});

test('onnx engine: no tensor leaks across detect calls and vocabulary changes', async () => {
  await onnx.detect(images[0]!, LOW);
  await expectNoLeak(async () => {
    for (let i = 0; i < 20; i++) await onnx.detect(images[i % 3]!, LOW);
    onnx.setVocabulary(['dress']);
    await onnx.detect(images[0]!, LOW);
    onnx.setVocabulary(VOCAB);
    await onnx.encodeVocabulary();
  });
});

test('onnx engine: errors are one UserError line (no vocabulary, empty entry, not an export dir)', async () => {
  const d = await createDetector({ weights: exported, engine: 'onnx', threads: 1 });
  await assert.rejects(() => d.detect(images[0]!), (e: unknown) => e instanceof UserError && /no vocabulary/.test(e.message));
  assert.throws(() => d.setVocabulary(['dog', ' ']), (e: unknown) => e instanceof UserError && /entry 1 is empty/.test(e.message));
  d.dispose();
  await assert.rejects(() => createDetector({ weights, engine: 'onnx' }), (e: unknown) => e instanceof UserError && e.message.includes(path.join(weights, 'manifest.json')));
});
