// Inference time per stage of the onnx engine (image graph, text graph, post-processing) against the tfjs engine,
// tiny preset (random weights), one 128 px image, the 20 OVD-MNIST category names, at 1 and 2 threads.
//   npx tsx bench/onnxStages.ts [--reps 30] [--warmup 5] [--threads 1,2]
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

const argv = process.argv.slice(2);
const get = (f: string): string | undefined => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const reps = Number(get('--reps') ?? 30);
const warmup = Number(get('--warmup') ?? 5);
const threadList = (get('--threads') ?? '1,2').split(',').map(Number);
const S = 128;
const VOCAB = [...BASE_NAMES, ...NOVEL_NAMES];
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

/** Median ms of fn over reps runs after warm-up runs. */
async function time(fn: () => unknown): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); await fn(); t.push(performance.now() - t0); }
  return median(t);
}

const backend = await initBackend();
const model = buildDetClip(resolveModelConfig('tiny'), 3);
const image = buildImageGraph(model).toBytes(ONNX_OPSET);
const text = buildTextGraph(model).toBytes(ONNX_OPSET);
const px = (() => { const t = tf.randomNormal([1, S, S, 3], 0, 1, 'float32', 1); const v = t.dataSync() as Float32Array; t.dispose(); return v; })();
const L = model.cfg.text.contextLength;
const ids = tokenize(VOCAB, L);
const pre = { pixels: px, height: S, width: S, validH: S, validW: S, srcH: S, srcW: S };
const [scale, bias] = [model.image.head.logitScale, model.image.head.logitBias];
console.log(`tiny preset, 1 x ${S} px, ${VOCAB.length} concepts; onnxruntime-node ${ORT_VERSION}; tfjs backend ${backend}; median of ${reps}`);
for (const threads of threadList) {
  if (backend === 'torch') setTorchThreads(threads);
  const is = await openSession(image, 'image', threads);
  const ts = await openSession(text, 'text', threads);
  const net = await runImageGraph(is, px, 1, S, S);
  const emb = tf.tensor2d(await runTextGraph(ts, ids, VOCAB.length, L), [VOCAB.length, model.cfg.head.embedDim]);
  const post = (): void => {
    const lt = tf.tidy(() => similarityLogits(tf.tensor3d(net.embeddings, [1, net.k, emb.shape[1]]), emb, scale, bias));
    const logits = lt.dataSync() as Float32Array;
    lt.dispose();
    imageDetections({ logits, centerness: net.centerness, boxes: net.boxes }, 0, net.k, VOCAB, pre, {});
  };
  const r = {
    onnxImage: await time(() => runImageGraph(is, px, 1, S, S)),
    onnxText: await time(() => runTextGraph(ts, ids, VOCAB.length, L)),
    post: await time(post),
    tfjsImage: await time(() => {
      const out = tf.tidy(() => { const e = model.image.encodeImage(tf.tensor4d(px, [1, S, S, 3]), false); return [e.boxes, e.centerness, e.regionEmbeddings]; });
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
