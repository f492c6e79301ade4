// The onnx inference engine: image.onnx and text.onnx on onnxruntime-node (CPU), with the tfjs engine's own
// scoring (similarityLogits), post-processing (postprocess, NMS), batching and vocabulary handling around them.
//   const det = await createDetector({ engine: 'onnx', weights: 'runs/demo/onnx' });
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type * as ort from 'onnxruntime-node';
import { initBackend } from '../backend/index.ts';
import { similarityLogits } from '../model/head/atssHead.ts';
import { tokenize } from '../model/text/tokenizer.ts';
import { UserError } from '../errors.ts';
import type { CategoryLike } from '../data/wordnetEnrich.ts';
import { checkVocabulary, groupBySize, imageDetections, imagesPerPass, postprocessOptions, type Detection, type DetectOptions } from '../infer/detectorCore.ts';
import type { CreateDetectorOptions, ImageDetections } from '../infer/detector.ts';
import { preprocess, type ImageInput, type Preprocessed } from '../infer/preprocess.ts';
import type { InferenceSettings } from '../infer/settings.ts';
import { sameVocabulary, vocabularyTexts, type VocabularyEntry } from '../infer/vocabularyTexts.ts';
import { EXPORT_FILES, readOnnxExport, type OnnxExport } from './manifest.ts';
import { openSession, runImageGraph, runTextGraph } from './ortSession.ts';

const TEXT_CHUNK = 256; // concepts per text.onnx run, as TextEncoder.encodeText

export class OnnxDetector {
  readonly engine = 'onnx' as const;
  private vocab: string[] = [];
  private conceptEmb: tf.Tensor2D | null = null; // [M, D] unit length
  private pending: Promise<void> | null = null;   // the text.onnx run of the vocabulary set last
  private readonly logitScale: tf.Scalar;
  private readonly logitBias: tf.Scalar;

  constructor(readonly exported: OnnxExport, private readonly imageSess: ort.InferenceSession,
    private readonly textSess: ort.InferenceSession, readonly settings: InferenceSettings) {
    this.logitScale = tf.scalar(exported.manifest.scoring.logitScale);
    this.logitBias = tf.scalar(exported.manifest.scoring.logitBias);
  }

  get vocabulary(): readonly string[] { return this.vocab; }

  /** The cached concept embeddings [M, D] once encoded (null before; await encodeVocabulary() to be sure). */
  get conceptEmbeddings(): tf.Tensor2D | null { return this.conceptEmb; }

  /**
   * Sets the vocabulary (words/phrases or categories, enriched as at training) and starts encoding it with text.onnx;
   * the next detect waits for it. Entries are checked here (a bad entry throws at once).
   */
  setVocabulary(entries: VocabularyEntry[]): void {
    const { names, texts } = vocabularyTexts(entries, this.settings.enrich);
    checkVocabulary(texts);
    this.vocab = [...names];
    const run = this.encode(texts).then((emb) => {
      if (this.pending !== run) { emb.dispose(); return; } // a newer vocabulary was set meanwhile
      this.conceptEmb?.dispose();
      this.conceptEmb = emb;
    });
    run.catch(() => undefined); // reported by the next encodeVocabulary/detect
    this.pending = run;
  }

  /** Waits for the vocabulary's embeddings [M, D] (owned by the detector). */
  async encodeVocabulary(): Promise<tf.Tensor2D> {
    if (!this.pending) throw new UserError('no vocabulary: call setVocabulary() first');
    await this.pending;
    return this.conceptEmb!;
  }

  /** Unique texts in chunks through text.onnx -> [M, D] in the given order. */
  private async encode(texts: string[]): Promise<tf.Tensor2D> {
    const L = this.exported.manifest.tokenizer.contextLength;
    const D = this.exported.manifest.embedDim;
    const unique = [...new Set(texts)];
    const rows = new Map<string, Float32Array>();
    for (let s = 0; s < unique.length; s += TEXT_CHUNK) {
      const chunk = unique.slice(s, s + TEXT_CHUNK);
      const emb = await runTextGraph(this.textSess, tokenize(chunk, L), chunk.length, L);
      chunk.forEach((t, i) => rows.set(t, emb.subarray(i * D, (i + 1) * D)));
    }
    const out = new Float32Array(texts.length * D);
    texts.forEach((t, i) => out.set(rows.get(t)!, i * D));
    return tf.tensor2d(out, [texts.length, D]);
  }

  async detect(image: ImageInput, opts?: DetectOptions): Promise<Detection[]>;
  async detect(image: ImageInput, vocabulary: (string | CategoryLike)[], opts?: DetectOptions): Promise<Detection[]>;
  async detect(image: ImageInput, a?: DetectOptions | (string | CategoryLike)[], b?: DetectOptions): Promise<Detection[]> {
    let opts = a as DetectOptions | undefined;
    if (Array.isArray(a)) {
      if (!sameVocabulary(a, this.vocab)) this.setVocabulary(a);
      opts = b;
    }
    return (await this.detectBatch([image], opts ?? {}))[0]!;
  }

  async detectBatch(images: ImageInput[], opts: DetectOptions = {}): Promise<Detection[][]> {
    return (await this.detectBatchDetailed(images, opts)).map((r) => r.detections);
  }

  async detectBatchDetailed(images: ImageInput[], opts: DetectOptions = {}): Promise<ImageDetections[]> {
    if (!this.pending) throw new UserError('no vocabulary: call setVocabulary() first'); // before decoding anything
    const s = this.settings;
    const pre: Preprocessed[] = [];
    for (const img of images) pre.push(await preprocess(img, s.resize, s.padDivisor, s.normalization));
    return (await this.detectPreprocessed(pre, opts)).map((detections, i) => ({ width: pre[i]!.srcW, height: pre[i]!.srcH, detections }));
  }

  /** As DetectorCore.detectPreprocessed: same-size images share image.onnx runs; results in input order. */
  async detectPreprocessed(images: Preprocessed[], opts: DetectOptions = {}): Promise<Detection[][]> {
    // a clone shares the data: a vocabulary set while this call awaits onnxruntime cannot free it under us
    const emb = tf.clone(await this.encodeVocabulary());
    const vocab = this.vocab;
    try {
      return await this.detectWith(images, emb, vocab, opts);
    } finally {
      emb.dispose();
    }
  }

  private async detectWith(images: Preprocessed[], emb: tf.Tensor2D, vocab: readonly string[], opts: DetectOptions): Promise<Detection[][]> {
    const post = postprocessOptions(opts);
    const out: Detection[][] = new Array(images.length);
    const D = this.exported.manifest.embedDim;
    for (const idx of groupBySize(images)) {
      const { height: h, width: w } = images[idx[0]!]!;
      // anchors per image: ceil(side / stride) per level, exact for inputs padded to the largest stride
      const kEst = this.exported.manifest.image.strides.reduce((a, st) => a + Math.ceil(h / st) * Math.ceil(w / st), 0);
      const perPass = imagesPerPass(kEst, vocab.length, opts.batchSize);
      for (let s = 0; s < idx.length; s += perPass) {
        const part = idx.slice(s, s + perPass);
        const x = new Float32Array(part.length * h * w * 3);
        part.forEach((i, b) => x.set(images[i]!.pixels, b * h * w * 3));
        const net = await runImageGraph(this.imageSess, x, part.length, h, w);
        const k = net.k;
        const lt = tf.tidy(() => similarityLogits(tf.tensor3d(net.embeddings, [part.length, k, D]), emb, this.logitScale, this.logitBias)); // [B, K, M]
        const logits = lt.dataSync() as Float32Array; // read outside tidy: tidy walks a returned array element by element
        lt.dispose();
        part.forEach((i, b) => { out[i] = imageDetections({ logits, centerness: net.centerness, boxes: net.boxes }, b, k, vocab, images[i]!, post); });
      }
    }
    return out;
  }

  /** Frees the concept cache and the sessions. */
  dispose(): void {
    this.conceptEmb?.dispose();
    this.conceptEmb = null;
    this.pending = null;
    this.vocab = [];
    this.logitScale.dispose();
    this.logitBias.dispose();
    void this.imageSess.release();
    void this.textSess.release();
  }
}

/** Reads and checks an export directory and opens both sessions (threads: onnxruntime intra-op, default all cores). */
export async function createOnnxDetector(opts: CreateDetectorOptions): Promise<OnnxDetector> {
  await initBackend(opts.backend); // tfjs runs the scoring (the same similarityLogits as the tfjs engine)
  const exp = readOnnxExport(opts.weights);
  const env = process.env.DETCLIP_THREADS;
  const threads = opts.threads ?? (env ? Number(env) : undefined);
  const imageSess = await openSession(exp.image, path.join(opts.weights, EXPORT_FILES.image), threads);
  let textSess: ort.InferenceSession;
  try { textSess = await openSession(exp.text, path.join(opts.weights, EXPORT_FILES.text), threads); } catch (e) {
    await imageSess.release();
    throw e;
  }
  const settings = { ...exp.settings };
  if (opts.enrich !== undefined) settings.enrich = opts.enrich;
  return new OnnxDetector(exp, imageSess, textSess, settings);
}
