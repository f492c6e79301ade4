// Image-text contrastive loss of DetCLIPv2 (image-text pairs, no boxes): word-region similarity on the selected
// proposals, averaged over a text's phrases, then text->image cross-entropy with label smoothing.
import * as tf from '@tensorflow/tfjs';

export type MatchMode = '1to1' | '1toMany';

export interface ImageTextOptions {
  /** Temperature of the contrastive softmax (paper: 0.5; 0.07 performed poorly). */
  tau?: number;
  labelSmoothing?: number;
  /** '1to1': s_j = max over proposals (the paper's choice); '1toMany': softmax(·/tauT)-weighted sum. */
  mode?: MatchMode;
  /** Softmax temperature of '1toMany' (not reported in the paper). */
  tauT?: number;
  /** Also add the image->text direction and average the two (ablation; the paper uses text->image only). */
  symmetric?: boolean;
  /**
   * Subtract each image's mean score over the texts before the softmax (not in the paper). The text->image softmax
   * runs over images, so an image that scores high against every text (more or brighter regions, so a higher max)
   * wins for every text; from scratch, equalising those offsets is the easiest way down and the scores collapse to
   * chance. Centring removes that path (docs/ablations.md: pairs-only training leaves chance within ~40 steps with
   * it, and not in 280 without).
   */
  centerImages?: boolean;
  /**
   * Distributed: the images are one rank's slice of the batch, `imageConcepts` holds every text of the global
   * batch, and this turns the rank's scores [B_r, B] into the global [B, B] (other ranks' rows as constants).
   */
  gatherRows?: (local: tf.Tensor2D) => tf.Tensor2D;
}

export const IMAGE_TEXT_DEFAULTS: Required<Omit<ImageTextOptions, 'gatherRows'>> = {
  tau: 0.5, labelSmoothing: 0.1, mode: '1to1', tauT: 0.1, symmetric: false, centerImages: false,
};

// Additive mask for non-proposal anchors: far below any cosine (and any cosine / tauT).
const MASKED = -1e9;

function checkInputs(B: number, K: number, M: number, proposals: Int32Array[], imageConcepts: number[][], anyTexts: boolean): void {
  if (proposals.length !== B) throw new Error(`imageText: ${proposals.length} proposal lists for ${B} images`);
  if (!anyTexts && imageConcepts.length !== B) throw new Error(`imageText: ${imageConcepts.length} texts for ${B} images`);
  proposals.forEach((p, i) => {
    if (p.length === 0) throw new Error(`imageText: image ${i} has no proposals`);
    for (const k of p) if (!(k >= 0 && k < K)) throw new Error(`imageText: image ${i}: proposal index ${k} outside [0, ${K})`);
  });
  imageConcepts.forEach((c, t) => {
    if (c.length === 0) throw new Error(`imageText: text ${t} has no phrases`);
    for (const j of c) if (!(Number.isInteger(j) && j >= 0 && j < M)) throw new Error(`imageText: text ${t}: phrase index ${j} outside [0, ${M})`);
  });
}

/** Cosine of every region with every phrase: regionEmb [B, K, D], phraseEmb [M, D] (L2-normalised) -> [B, K, M]. */
export function regionPhraseSimilarity(regionEmb: tf.Tensor, phraseEmb: tf.Tensor): tf.Tensor3D {
  const [B, K, D] = regionEmb.shape as [number, number, number];
  const M = phraseEmb.shape[0]!;
  if (phraseEmb.shape[1] !== D) throw new Error(`imageText: phrase dim ${phraseEmb.shape[1]} != region dim ${D}`);
  return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(regionEmb, [B * K, D]), phraseEmb, false, true), [B, K, M]) as tf.Tensor3D);
}

/**
 * s(I_i, T_t) for every image i and text t -> [B_img, B_text], from the similarity [B, K, M]
 * (B_text = B unless opts.anyTexts: then imageConcepts may list any number of texts)
 * (regionPhraseSimilarity; the same matrix gives the proposals' objectness, so it can be computed once).
 * proposals[i] are image i's kept anchor indices; imageConcepts[t] are the phrase indices of text t.
 * Gather-free: non-proposals are masked additively and phrases are averaged by a constant [M, B] matrix.
 */
export function imageTextScoresFromSimilarity(
  sim: tf.Tensor,
  proposals: Int32Array[],
  imageConcepts: number[][],
  opts: Pick<ImageTextOptions, 'mode' | 'tauT'> & { anyTexts?: boolean } = {},
): tf.Tensor2D {
  const { mode = IMAGE_TEXT_DEFAULTS.mode, tauT = IMAGE_TEXT_DEFAULTS.tauT } = opts;
  const [B, K, M] = sim.shape as [number, number, number];
  checkInputs(B, K, M, proposals, imageConcepts, opts.anyTexts ?? false);
  const T = imageConcepts.length;
  // Constants, built on the CPU (no comparisons on the tape).
  const mask = new Float32Array(B * K).fill(MASKED);
  proposals.forEach((p, i) => { for (const k of p) mask[i * K + k] = 0; });
  const avg = new Float32Array(M * T); // [M, B_text]: 1/|T_t| where phrase j belongs to text t
  imageConcepts.forEach((c, t) => { for (const j of c) avg[j * T + t] += 1 / c.length; });
  return tf.tidy(() => {
    const maskT = tf.tensor3d(mask, [B, K, 1]);
    let perPhrase: tf.Tensor; // [B, M]: s_j for image i
    if (mode === '1to1') {
      perPhrase = tf.max(tf.add(sim, maskT), 1);
    } else {
      const simT = tf.transpose(sim, [0, 2, 1]); // softmax runs on the last axis: [B, M, K]
      const w = tf.softmax(tf.add(tf.div(simT, tauT), tf.reshape(maskT, [B, 1, K])), -1);
      perPhrase = tf.sum(tf.mul(w, simT), -1);
    }
    return tf.matMul(perPhrase, tf.tensor2d(avg, [M, T])) as tf.Tensor2D; // [B_img, B_text]
  });
}

/** s(I_i, T_t) [B_img, B_text] from the embeddings: regionEmb [B, K, D], phraseEmb [M, D] (L2-normalised). */
export function imageTextScores(
  regionEmb: tf.Tensor,
  phraseEmb: tf.Tensor,
  proposals: Int32Array[],
  imageConcepts: number[][],
  opts: Pick<ImageTextOptions, 'mode' | 'tauT'> = {},
): tf.Tensor2D {
  return tf.tidy(() => imageTextScoresFromSimilarity(regionPhraseSimilarity(regionEmb, phraseEmb), proposals, imageConcepts, opts));
}

/** Mean cross-entropy of logits [N, C] against the diagonal (row n's target is class n), with label smoothing. */
function diagonalCrossEntropy(logits: tf.Tensor2D, labelSmoothing: number): tf.Scalar {
  const [N, C] = logits.shape;
  const q = new Float32Array(N * C).fill(labelSmoothing / C);
  for (let n = 0; n < N; n++) q[n * C + n] += 1 - labelSmoothing;
  return tf.tidy(() => tf.neg(tf.div(tf.sum(tf.mul(tf.logSoftmax(logits, -1), tf.tensor2d(q, [N, C]))), N)) as tf.Scalar);
}

/** Contrastive loss from the similarity [B, K, M] (image i goes with text i): text->image CE (+ image->text). */
export function imageTextLossFromSimilarity(
  sim: tf.Tensor,
  proposals: Int32Array[],
  imageConcepts: number[][],
  opts: ImageTextOptions = {},
): tf.Scalar {
  const o = { ...IMAGE_TEXT_DEFAULTS, ...opts };
  return tf.tidy(() => {
    let scores = tf.div(imageTextScoresFromSimilarity(sim, proposals, imageConcepts, { ...o, anyTexts: !!o.gatherRows }), o.tau) as tf.Tensor2D;
    if (o.gatherRows) scores = o.gatherRows(scores); // [B_r, B] -> [B, B]
    if (o.centerImages) scores = tf.sub(scores, tf.mean(scores, 1, true)) as tf.Tensor2D; // rows: images
    const textToImage = diagonalCrossEntropy(tf.transpose(scores), o.labelSmoothing); // rows: texts
    if (!o.symmetric) return textToImage;
    const imageToText = diagonalCrossEntropy(scores, o.labelSmoothing); // rows: images
    return tf.div(tf.add(textToImage, imageToText), 2) as tf.Scalar;
  });
}

/** Contrastive loss from the embeddings: regionEmb [B, K, D], phraseEmb [M, D] (L2-normalised). */
export function imageTextLoss(
  regionEmb: tf.Tensor,
  phraseEmb: tf.Tensor,
  proposals: Int32Array[],
  imageConcepts: number[][],
  opts: ImageTextOptions = {},
): tf.Scalar {
  return tf.tidy(() => imageTextLossFromSimilarity(regionPhraseSimilarity(regionEmb, phraseEmb), proposals, imageConcepts, opts));
}
