// Inference time per stage of the onnx engine (image graph, text graph, post-processing) against the tfjs engine,
// random weights, at 1 and 2 threads. Default: tiny preset, one 128 px image, the 20 OVD-MNIST category names;
// `--preset r50 --size 320 --batch 2 --concepts 80` is bench:compare's case (its images and enriched COCO concepts).
//   npx tsx bench/onnxStages.ts [--reps 30] [--warmup 5] [--threads 1,2] [--preset tiny] [--size 128] [--batch 1] [--concepts N]
// Post-processing = the shared code: similarityLogits (tfjs) + postprocess/NMS (scoreThreshold 0.05, mmdet's).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { setTorchThreads } from '../src/backend/torch/index.ts';
import { buildDetClip } from '../src/model/detclip.ts';
import { resolveModelConfig } from '../src/config/model.ts';
import { similarityLogits } from '../src/model/head/atssHead.ts';
import { tokenize } from '../src/model/text/tokenizer.ts';
import { BASE_NAMES, NOVEL_NAMES } from '../src/data/synth/ovdMnistCategories.ts';
import { imageDetections } from '../src/infer/detectorCore.ts';
import { buildImageGraph } from '../src/onnx/exportImage.ts';
import { buildTextGraph } from '../src/onnx/exportText.ts';
import { ONNX_OPSET } from '../src/onnx/manifest.ts';
import { openSession, ORT_VERSION, runImageGraph, runTextGraph } from '../src/onnx/ortSession.ts';
import { benchConcepts, syntheticBatch } from './train_step.ts';

const argv = process.argv.slice(2);
const get = (f: string): string | undefined => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const reps = Number(get('--reps') ?? 30);
const warmup = Number(get('--warmup') ?? 5);
const threadList = (get('--threads') ?? '1,2').split(',').map(Number);
const preset = get('--preset') ?? 'tiny';
const S = Number(get('--size') ?? 128);
const B = Number(get('--batch') ?? 1);
const concepts = get('--concepts');
// [M] concept texts (detections are labelled with them here: the names do not change the timing)
const VOCAB = concepts === undefined ? [...BASE_NAMES, ...NOVEL_NAMES] : benchConcepts(Number(concepts), false).texts;
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

/** Median ms of fn over reps runs after warm-up runs. */
async function time(fn: () => unknown): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); await fn(); t.push(performance.now() - t0); }
  return median(t);
}

const backend = await initBackend();
const model = buildDetClip(resolveModelConfig(preset), 3);
const image = buildImageGraph(model).toBytes(ONNX_OPSET);
const text = buildTextGraph(model).toBytes(ONNX_OPSET);
const px = concepts === undefined
  ? (() => { const t = tf.randomNormal([B, S, S, 3], 0, 1, 'float32', 1); const v = t.dataSync() as Float32Array; t.dispose(); return v; })()
  : syntheticBatch({ batch: B, size: S }, VOCAB).pixels; // [B, S, S, 3] as bench:compare
const L = model.cfg.text.contextLength;
const ids = tokenize(VOCAB, L);
const pre = { pixels: px, height: S, width: S, validH: S, validW: S, srcH: S, srcW: S };
const [scale, bias] = [model.image.head.logitScale, model.image.head.logitBias];
console.log(`${preset} preset, ${B} x ${S} px, ${VOCAB.length} concepts; onnxruntime-node ${ORT_VERSION}; tfjs backend ${backend}; median of ${reps}`);
for (const threads of threadList) {
  if (backend === 'torch') setTorchThreads(threads);
  const is = await openSession(image, 'image', threads);
  const ts = await openSession(text, 'text', threads);
  const net = await runImageGraph(is, px, B, S, S);
  const emb = tf.tensor2d(await runTextGraph(ts, ids, VOCAB.length, L), [VOCAB.length, model.cfg.head.embedDim]);
  const post = (): void => {
    const lt = tf.tidy(() => similarityLogits(tf.tensor3d(net.embeddings, [B, net.k, emb.shape[1]]), emb, scale, bias)); // [B, K, M]
    const logits = lt.dataSync() as Float32Array;
    lt.dispose();
    for (let b = 0; b < B; b++) imageDetections({ logits, centerness: net.centerness, boxes: net.boxes }, b, net.k, VOCAB, pre, {});
  };
  const r = {
    onnxImage: await time(() => runImageGraph(is, px, B, S, S)),
    onnxText: await time(() => runTextGraph(ts, ids, VOCAB.length, L)),
    post: await time(post),
    tfjsImage: await time(() => {
      const out = tf.tidy(() => { const e = model.image.encodeImage(tf.tensor4d(px, [B, S, S, 3]), false); return [e.boxes, e.centerness, e.regionEmbeddings]; });
      out.forEach((t) => t.dataSync());
      tf.dispose(out);
    }),
    tfjsText: await time(() => { const e = model.text.encodeText(VOCAB, { cache: false }); e.dataSync(); e.dispose(); }),
  };
  console.log(`${threads} thread${threads > 1 ? 's' : ''}: onnx image graph ${r.onnxImage.toFixed(2)} ms, text graph ${r.onnxText.toFixed(2)} ms, ` +
    `post-processing ${r.post.toFixed(2)} ms | tfjs (${backend}) image ${r.tfjsImage.toFixed(2)} ms, text ${r.tfjsText.toFixed(2)} ms`);
  emb.dispose();
  await is.release();
  await ts.release();
}
model.dispose();
