import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import sharp from 'sharp';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { createDetector, inferenceSettings, type Detection, type Detector } from '../../src/infer/detector.ts';
import { postprocessOptions } from '../../src/infer/detectorCore.ts';
import { UserError } from '../../src/errors.ts';
import { makeTinyModelDir, ovdMnistValImages } from './tinyModel.ts';

let det: Detector;
let images: string[];
const LOW = { scoreThreshold: 0.001, maxDetections: 20 }; // a random model scores ~0.01 * centerness

before(async () => {
  await setupBackend();
  images = await ovdMnistValImages();
  det = await createDetector({ weights: makeTinyModelDir({ resize: { mode: 'square', size: 32 } }) }); // small and fast
  det.setVocabulary(['seven', 'coat', 'red dress']);
});
after(() => det.dispose());

/** Rows [start, start + n) of the cached concept embeddings. */
const rows = (d: Detector, start: number, n: number): Float32Array => {
  const t = d.conceptEmbeddings!.slice([start, 0], [n, -1]);
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
};
const flat = (ds: Detection[]): number[] => ds.flatMap((d) => [d.labelIndex, d.score, d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax]);

test('no tensor leaks across 1,000 detect calls', async () => {
  const png = fs.readFileSync(images[0]!);
  const { data, info } = await sharp(png).resize(64, 64).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { data: new Uint8Array(data), width: info.width, height: info.height };
  await det.detect(raw, LOW); // warm-up: anchors, kernels
  const bytes = tf.memory().numBytes;
  await expectNoLeak(async () => {
    for (let i = 0; i < 1000; i++) {
      const found = await det.detect(raw, LOW);
      if (i === 0) assert.ok(found.length > 0, 'a low threshold yields detections');
    }
  });
  assert.equal(tf.memory().numBytes, bytes);
});

test('setVocabulary: encodes once, disposes the previous cache, rejects empty vocabularies', async () => {
  const d2 = await createDetector({ weights: makeTinyModelDir() });
  try {
    d2.setVocabulary(['zebra']);
    await expectNoLeak(() => {
      d2.setVocabulary(['dog', 'cat']);
      const first = d2.conceptEmbeddings!;
      assert.deepEqual(first.shape, [2, 16]);
      d2.setVocabulary([{ name: 'coat', text: 'a warm coat' }, 'sandal', 'bag']);
      assert.ok(first.isDisposed, 'the old cache is disposed');
      assert.deepEqual(d2.vocabulary, ['coat', 'sandal', 'bag']);
      // The `text` override is what gets encoded; the label stays the name.
      const want = d2.model.text.encodeText(['a warm coat', 'sandal'], { cache: false });
      assertClose(rows(d2, 0, 2), want.dataSync(), { what: 'concept embeddings' });
      want.dispose();
    });
    assert.throws(() => d2.setVocabulary([]), (e: Error) => e instanceof UserError && /vocabulary is empty/.test(e.message));
    assert.throws(() => d2.setVocabulary(['a', ' ']), /vocabulary entry 1 is empty/);
    assert.deepEqual(d2.vocabulary, ['coat', 'sandal', 'bag'], 'a rejected vocabulary keeps the old one');
  } finally {
    d2.dispose();
  }
  const d3 = await createDetector({ weights: makeTinyModelDir() });
  await assert.rejects(d3.detect(images[0]!), /no vocabulary: call setVocabulary/);
  d3.dispose();
});

test('a vocabulary of any size is encoded in chunks; the order of labels follows the vocabulary', async () => {
  const d2 = await createDetector({ weights: makeTinyModelDir() });
  try {
    const words = Array.from({ length: 300 }, (_, i) => `thing ${i}`); // > one 256-concept chunk
    d2.setVocabulary(words);
    assert.deepEqual(d2.conceptEmbeddings!.shape, [300, 16]);
    const one = d2.model.text.encodeText(['thing 299'], { cache: false });
    assertClose(rows(d2, 299, 1), one.dataSync(), { what: 'last concept' });
    one.dispose();
    for (const d of await d2.detect(images[0]!, LOW)) assert.equal(d.label, words[d.labelIndex]);
  } finally {
    d2.dispose();
  }
});

test('every input form gives the same detections: path, PNG/WebP-lossless bytes, raw RGB and RGBA', async () => {
  const file = images[1]!;
  const png = fs.readFileSync(file);
  const ref = await det.detect(file, LOW);
  assert.ok(ref.length > 0);
  const rgb = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgba = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const forms = {
    'PNG buffer': png,
    'Uint8Array': new Uint8Array(png),
    'lossless WebP': await sharp(png).webp({ lossless: true }).toBuffer(),
    'raw RGB': { data: new Uint8Array(rgb.data), width: rgb.info.width, height: rgb.info.height },
    'raw RGBA': { data: new Uint8Array(rgba.data), width: rgba.info.width, height: rgba.info.height, channels: 4 as const },
  };
  for (const [what, input] of Object.entries(forms)) assert.deepEqual(flat(await det.detect(input, LOW)), flat(ref), what);
  const jpeg = await det.detect(await sharp(png).jpeg({ quality: 95 }).toBuffer(), LOW);
  assert.ok(jpeg.length > 0, 'JPEG works');
  for (const d of [...ref, ...jpeg]) {
    assert.ok(d.box.xmin >= 0 && d.box.ymin >= 0 && d.box.xmax <= 128 && d.box.ymax <= 128, 'boxes in original pixels');
  }
});

test('unreadable inputs: one UserError line naming the input', async () => {
  await assert.rejects(det.detect(Buffer.from('not an image')), (e: Error) => e instanceof UserError && /12-byte image buffer: cannot read image/.test(e.message));
  await assert.rejects(det.detect('no/such.png'), /no\/such\.png: cannot read image/);
  await assert.rejects(det.detect({ data: new Uint8Array(10), width: 2, height: 2 }), /raw 2x2 image: cannot read image \(raw image has 10 bytes, expected 2x2x3\)/);
});

test('detectBatch (mixed sizes, batched same-size passes) equals detect one by one; boxes map to each original size', async () => {
  const wide = await sharp(images[2]!).resize(192, 96, { fit: 'fill' }).png().toBuffer();
  const inputs = [images[0]!, wide, images[1]!, images[2]!];
  const batch = await det.detectBatch(inputs, { ...LOW, batchSize: 2 });
  for (let i = 0; i < inputs.length; i++) {
    const one = await det.detect(inputs[i]!, LOW);
    assert.equal(batch[i]!.length, one.length, `image ${i}`);
    assertClose(flat(batch[i]!), flat(one), { rtol: 1e-4, atol: 1e-4, what: `image ${i}` });
  }
  for (const d of batch[1]!) assert.ok(d.box.xmax <= 192 && d.box.ymax <= 96, 'wide image boxes in 192x96 pixels');
});

test('detect options: nms alias (number, false), maxDetections', async () => {
  assert.deepEqual(postprocessOptions({ nms: 0.5, nmsThreshold: 0.9 }), { nmsThreshold: 0.5 });
  assert.deepEqual(postprocessOptions({ nms: false }), { nmsThreshold: 1 });
  assert.deepEqual(postprocessOptions({ nms: true, scoreThreshold: 0.2, batchSize: 3 }), { scoreThreshold: 0.2 });
  assert.throws(() => postprocessOptions({ nms: 1.5 }), /nms must be an IoU threshold/);
  const o = { scoreThreshold: 0.001, maxDetections: 1000 };
  const a = await det.detect(images[0]!, { ...o, nms: 0.5 });
  const b = await det.detect(images[0]!, { ...o, nmsThreshold: 0.5 });
  const none = await det.detect(images[0]!, { ...o, nms: false });
  assert.deepEqual(flat(a), flat(b));
  assert.ok(none.length > a.length, `NMS off keeps more boxes (${none.length} > ${a.length})`);
  assert.equal((await det.detect(images[0]!, { ...o, maxDetections: 3 })).length, 3);
});

test('inferenceSettings: saved values, else defaults from the model input size', () => {
  const m = { cfg: { input: { height: 800, width: 1333 } } };
  assert.deepEqual(inferenceSettings(m, {}), { resize: { mode: 'shortSide', short: 800, max: 1333 }, padDivisor: 32, enrich: true });
  assert.deepEqual(inferenceSettings({ cfg: { input: { height: 128, width: 128 } } }, { inference: { enrich: false, padDivisor: 64 } }),
    { resize: { mode: 'square', size: 128 }, padDivisor: 64, enrich: false });
});
