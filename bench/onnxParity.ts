// ONNX export parity on random-weight presets: builds the image and text graphs in memory, runs them on
// onnxruntime-node (CPU) and the tfjs model on the same input, prints max |onnx - tfjs| per output.
//   npx tsx bench/onnxParity.ts [--presets tiny,r50,t] [--size 256x384] [--threads 2]
// conv_offset is random (N(0, 0.3²)) so that DeformConv's sampling really moves. Unsupported presets say so.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { buildDetClip } from '../src/model/detclip.ts';
import { resolveModelConfig } from '../src/config/model.ts';
import { l2Normalize } from '../src/model/head/atssHead.ts';
import { tokenize } from '../src/model/text/tokenizer.ts';
import { buildImageGraph } from '../src/onnx/exportImage.ts';
import { buildTextGraph } from '../src/onnx/exportText.ts';
import { ONNX_OPSET } from '../src/onnx/manifest.ts';
import { openSession, ORT_VERSION, runImageGraph, runTextGraph } from '../src/onnx/ortSession.ts';

const argv = process.argv.slice(2);
const get = (f: string): string | undefined => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const presets = (get('--presets') ?? 'tiny,r50,t').split(',');
const [H, W] = (get('--size') ?? '256x384').split('x').map(Number) as [number, number];
const threads = Number(get('--threads') ?? 2);
const TEXTS = ['a red umbrella', 'ankle boot, a shoe reaching just above the ankle', 'dog', ''];

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
/** Reads tensors outside tf.tidy (tidy walks returned typed arrays element by element) and frees them. */
const read = (ts: tf.Tensor[]): Float32Array[] => { const v = ts.map((t) => t.dataSync() as Float32Array); tf.dispose(ts); return v; };

await initBackend();
console.log(`onnxruntime-node ${ORT_VERSION}, opset ${ONNX_OPSET}, tfjs backend ${tf.getBackend()}, input 2x${H}x${W}, ${threads} threads`);
for (const preset of presets) {
  const model = buildDetClip(resolveModelConfig(preset), 3);
  try {
    for (const [n, v] of model.store.entries()) if (n.includes('conv_offset')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 7)));
    let image: Uint8Array;
    try { image = buildImageGraph(model).toBytes(ONNX_OPSET); } catch (e) {
      console.log(`${preset}: not exported (${(e as Error).message})`);
      continue;
    }
    const text = buildTextGraph(model).toBytes(ONNX_OPSET);
    const [is, ts] = [await openSession(image, `${preset} image`, threads), await openSession(text, `${preset} text`, threads)];
    const px = read([tf.randomNormal([2, H, W, 3], 0, 1, 'float32', 1)])[0]!;
    const t0 = performance.now();
    const got = await runImageGraph(is, px, 2, H, W);
    const tOnnx = performance.now() - t0;
    const t1 = performance.now();
    const [boxes, ctr, emb] = read(tf.tidy(() => {
      const enc = model.image.encodeImage(tf.tensor4d(px, [2, H, W, 3]), false);
      return [enc.boxes, enc.centerness, enc.regionEmbeddings];
    }));
    const tTfjs = performance.now() - t1;
    const L = model.cfg.text.contextLength;
    const txt = await runTextGraph(ts, tokenize(TEXTS, L), TEXTS.length, L);
    const [want] = read([tf.tidy(() => l2Normalize(model.text.encodeText(TEXTS, { cache: false })))]);
    const boxScale = boxes!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    console.log(`${preset}: K ${got.k}, max |onnx - tfjs|: boxes ${maxDiff(got.boxes, boxes!).toExponential(2)} px (|box| <= ${boxScale.toFixed(0)}), ` +
      `centerness ${maxDiff(got.centerness, ctr!).toExponential(2)}, region embeddings ${maxDiff(got.embeddings, emb!).toExponential(2)}, ` +
      `text embeddings ${maxDiff(txt, want!).toExponential(2)}; image forward onnx ${tOnnx.toFixed(0)} ms, tfjs ${tTfjs.toFixed(0)} ms (first run); ` +
      `graphs ${(image.length / 1e6).toFixed(1)} + ${(text.length / 1e6).toFixed(1)} MB`);
    await is.release();
    await ts.release();
  } finally {
    model.dispose();
  }
}
