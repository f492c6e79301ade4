// The platform-free part of the detector: cached concept embeddings + the network + post-processing on
// preprocessed pixels. Node (detector.ts: files, sharp, WordNet) and the browser (web/) wrap it.
import * as tf from '@tensorflow/tfjs';
import type { DetClip } from '../model/detclip.ts';
import { UserError } from '../errors.ts';
import type { Preprocessed } from './letterbox.ts';
import { postprocess, type PostprocessOptions } from './postprocess.ts';
import type { InferenceSettings } from './settings.ts';

export interface Detection {
  label: string;          // the vocabulary entry as given (not the enriched text)
  labelIndex: number;     // its index in the vocabulary
  score: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number }; // original image pixels
}

export interface DetectOptions extends PostprocessOptions {
  /** Alias of nmsThreshold (IoU); false turns NMS off, true keeps the default. */
  nms?: number | boolean;
  /** Images per forward pass in detectBatch (same-size images only); default 8. */
  batchSize?: number;
}

/** DetectOptions -> postprocess options (the `nms` alias resolved; it wins over nmsThreshold). */
export function postprocessOptions(opts: DetectOptions): PostprocessOptions {
  const { nms, batchSize: _b, ...rest } = opts;
  if (nms === undefined || nms === true) return rest;
  // IoU is at most 1 and a box is suppressed only when IoU > threshold: 1 keeps everything.
  if (nms === false) return { ...rest, nmsThreshold: 1 };
  if (!(nms >= 0 && nms <= 1)) throw new UserError(`nms must be an IoU threshold in [0, 1] or false, got ${nms}`);
  return { ...rest, nmsThreshold: nms };
}

/** Throws a one-line UserError for an empty vocabulary or a blank entry. */
export function checkVocabulary(names: unknown[]): void {
  if (names.length === 0) throw new UserError('the vocabulary is empty: give at least one word or phrase');
  const blank = names.findIndex((n) => typeof n !== 'string' || n.trim() === '');
  if (blank >= 0) throw new UserError(`vocabulary entry ${blank} is empty`);
}

// Logits held at once in a batched forward pass ([B, K, M] floats): keeps big vocabularies x big images bounded.
const MAX_LOGITS_PER_PASS = 32 * 1024 * 1024;

/** Indices of the images grouped by padded size (first-seen order): each group shares forward passes. */
export function groupBySize(images: Preprocessed[]): number[][] {
  const groups = new Map<string, number[]>();
  images.forEach((p, i) => {
    const key = `${p.height}x${p.width}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return [...groups.values()];
}

/** Images per forward pass for K anchors and M concepts (the logits held at once stay bounded). */
export function imagesPerPass(k: number, m: number, batchSize = 8): number {
  return Math.max(1, Math.min(batchSize, Math.floor(MAX_LOGITS_PER_PASS / (k * m))));
}

/** One pass's network outputs, flat: logits [B, K, M], centerness [B, K] (logits), boxes [B, K, 4] input pixels. */
export interface PassOutputs { logits: Float32Array; centerness: Float32Array; boxes: Float32Array }

/** Image b of a pass -> detections in original-image pixels, labelled with the vocabulary. */
export function imageDetections(o: PassOutputs, b: number, k: number, vocab: readonly string[], p: Preprocessed, post: PostprocessOptions): Detection[] {
  const m = vocab.length;
  const raw = postprocess(o.logits.subarray(b * k * m, (b + 1) * k * m), m, o.centerness.subarray(b * k, (b + 1) * k),
    o.boxes.subarray(b * k * 4, (b + 1) * k * 4), [p.validH, p.validW], [p.srcH / p.validH, p.srcW / p.validW], post);
  return raw.map((d) => ({
    label: vocab[d.label]!, labelIndex: d.label, score: d.score,
    box: { xmin: d.box[0], ymin: d.box[1], xmax: d.box[2], ymax: d.box[3] },
  }));
}

export class DetectorCore {
  protected vocab: string[] = [];
  protected conceptEmb: tf.Tensor2D | null = null; // [M, D]

  constructor(readonly model: DetClip, readonly settings: InferenceSettings) {}

  get vocabulary(): readonly string[] { return this.vocab; }

  /** The cached concept embeddings [M, D] (owned by the detector; null before a vocabulary is set). */
  get conceptEmbeddings(): tf.Tensor2D | null { return this.conceptEmb; }

  /**
   * Encodes the concept texts (chunked by the text encoder, any count) and caches them for every later detect;
   * the previous cache is disposed. `names[i]` is what detections report for `texts[i]`.
   */
  setConcepts(names: string[], texts: string[]): void {
    checkVocabulary(names);
    if (names.length !== texts.length) throw new Error(`setConcepts: ${names.length} names but ${texts.length} texts`);
    checkVocabulary(texts);
    // cache: false, so that the text encoder's own cache does not keep every vocabulary ever set.
    const emb = this.model.text.encodeText(texts, { cache: false });
    this.conceptEmb?.dispose();
    this.conceptEmb = emb;
    this.vocab = [...names];
  }

  protected requireVocabulary(): tf.Tensor2D {
    if (!this.conceptEmb) throw new UserError('no vocabulary: call setVocabulary() first');
    return this.conceptEmb;
  }

  /**
   * Runs preprocessed images; those of the same padded size share forward passes. Results in input order.
   */
  detectPreprocessed(images: Preprocessed[], opts: DetectOptions = {}): Detection[][] {
    const emb = this.requireVocabulary();
    const post = postprocessOptions(opts);
    const out: Detection[][] = new Array(images.length);
    const m = this.vocab.length;
    for (const idx of groupBySize(images)) {
      const p0 = images[idx[0]!]!;
      const k = this.model.image.anchorsFor(p0.height, p0.width).anchors.points.length / 2;
      const perPass = imagesPerPass(k, m, opts.batchSize);
      for (let s = 0; s < idx.length; s += perPass) {
        const part = idx.slice(s, s + perPass);
        const [logits, ctr, boxes] = tf.tidy(() => {
          const x = tf.stack(part.map((i) => tf.tensor3d(images[i]!.pixels, [p0.height, p0.width, 3]))) as tf.Tensor4D;
          const enc = this.model.image.encodeImage(x, false);
          return [this.model.image.similarityLogits(enc.regionEmbeddings, emb), enc.centerness, enc.boxes]; // [B,K,M] [B,K] [B,K,4]
        });
        const [lg, ct, bx] = [logits.dataSync() as Float32Array, ctr.dataSync() as Float32Array, boxes.dataSync() as Float32Array];
        tf.dispose([logits, ctr, boxes]);
        part.forEach((i, b) => { out[i] = imageDetections({ logits: lg, centerness: ct, boxes: bx }, b, k, this.vocab, images[i]!, post); });
      }
    }
    return out;
  }

  /** Frees the concept cache and the model's variables. */
  dispose(): void {
    this.conceptEmb?.dispose();
    this.conceptEmb = null;
    this.vocab = [];
    this.model.dispose();
  }
}
