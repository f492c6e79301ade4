// The platform-free part of the onnx engine: image.onnx and text.onnx on any onnxruntime (onnxruntime-node in
// Node, onnxDetector.ts; onnxruntime-web in the browser, web/browserOnnxDetector.ts), with the tfjs engine's own
// scoring (similarityLogits), batching and post-processing (detectorCore.ts: postprocess, NMS) around them, and the
// concept embeddings cached per vocabulary. Browser-safe: no node:*, no WordNet, no sharp.
import * as tf from '@tensorflow/tfjs';
import { similarityLogits } from '../model/head/atssHead.ts';
import { tokenize } from '../model/text/tokenizer.ts';
import { UserError } from '../errors.ts';
import { checkVocabulary, groupBySize, imageDetections, imagesPerPass, postprocessOptions, type Detection, type DetectOptions } from '../infer/detectorCore.ts';
import type { Preprocessed } from '../infer/letterbox.ts';
import type { InferenceSettings } from '../infer/settings.ts';
import { runImage, runText, type OrtGraph } from './graphIo.ts';
import type { OnnxManifest } from './manifestSchema.ts';

const TEXT_CHUNK = 256; // concepts per text.onnx run, as TextEncoder.encodeText

export class OnnxDetectorCore {
  readonly engine = 'onnx' as const;
  protected vocab: string[] = [];
  private conceptEmb: tf.Tensor2D | null = null; // [M, D] unit length
  private pending: Promise<void> | null = null;   // the text.onnx run of the vocabulary set last
  private readonly logitScale: tf.Scalar;
  private readonly logitBias: tf.Scalar;

  constructor(readonly manifest: OnnxManifest, private readonly image: OrtGraph, private readonly text: OrtGraph,
    readonly settings: InferenceSettings) {
    this.logitScale = tf.scalar(manifest.scoring.logitScale);
    this.logitBias = tf.scalar(manifest.scoring.logitBias);
  }

  get vocabulary(): readonly string[] { return this.vocab; }

  /** The cached concept embeddings [M, D] once encoded (null before; await encodeVocabulary() to be sure). */
  get conceptEmbeddings(): tf.Tensor2D | null { return this.conceptEmb; }

  /**
   * Starts encoding the concept texts with text.onnx; the next detect waits for it. `names[i]` is what detections
   * report for `texts[i]`. Entries are checked here (a bad entry throws at once).
   */
  setConcepts(names: string[], texts: string[]): void {
    checkVocabulary(names);
    if (names.length !== texts.length) throw new Error(`setConcepts: ${names.length} names but ${texts.length} texts`);
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

  /** Throws the one-line "no vocabulary" error when none was set (before any image work). */
  protected requireVocabulary(): void {
    if (!this.pending) throw new UserError('no vocabulary: call setVocabulary() first');
  }

  /** Waits for the vocabulary's embeddings [M, D] (owned by the detector). */
  async encodeVocabulary(): Promise<tf.Tensor2D> {
    this.requireVocabulary();
    await this.pending;
    return this.conceptEmb!;
  }

  /** Unique texts in chunks through text.onnx -> [M, D] in the given order. */
  private async encode(texts: string[]): Promise<tf.Tensor2D> {
    const L = this.manifest.tokenizer.contextLength;
    const D = this.manifest.embedDim;
    const unique = [...new Set(texts)];
    const rows = new Map<string, Float32Array>();
    for (let s = 0; s < unique.length; s += TEXT_CHUNK) {
      const chunk = unique.slice(s, s + TEXT_CHUNK);
      const emb = await runText(this.text, tokenize(chunk, L), chunk.length, L);
      chunk.forEach((t, i) => rows.set(t, emb.subarray(i * D, (i + 1) * D)));
    }
    const out = new Float32Array(texts.length * D);
    texts.forEach((t, i) => out.set(rows.get(t)!, i * D));
    return tf.tensor2d(out, [texts.length, D]);
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
    const D = this.manifest.embedDim;
    for (const idx of groupBySize(images)) {
      const { height: h, width: w } = images[idx[0]!]!;
      // anchors per image: ceil(side / stride) per level, exact for inputs padded to the largest stride
      const kEst = this.manifest.image.strides.reduce((a, st) => a + Math.ceil(h / st) * Math.ceil(w / st), 0);
      const perPass = imagesPerPass(kEst, vocab.length, opts.batchSize);
      for (let s = 0; s < idx.length; s += perPass) {
        const part = idx.slice(s, s + perPass);
        const x = new Float32Array(part.length * h * w * 3);
        part.forEach((i, b) => x.set(images[i]!.pixels, b * h * w * 3));
        const net = await runImage(this.image, x, part.length, h, w);
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
    void this.image.session.release();
    void this.text.session.release();
  }
}
