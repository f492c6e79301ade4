// DETR-style criterion: the named losses of one batch of one data type, and their weighted total.
//   detection: align + giou + center      grounding: align      imageText: contrastive
import * as tf from '@tensorflow/tfjs';
import { alignmentLoss } from './alignmentLoss.ts';
import { centernessLoss, giouLocalizationLoss } from './localizationLoss.ts';
import { imageTextLossFromSimilarity, regionPhraseSimilarity } from './imageTextLoss.ts';
import { selectProposalsSync } from './proposalSelect.ts';
import { classificationTargetTensor, localizationTargetTensors, type DetectionTargets } from './detectionTargets.ts';
import { DEFAULT_LOSS_CONFIG, LOSS_WEIGHTS_MAIN_TEXT, type LossConfig, type LossWeights } from './lossConfig.ts';

export type DataKind = 'detection' | 'grounding' | 'imageText';
export type LossName = keyof LossWeights;
export type Losses = Partial<Record<LossName, tf.Scalar>>;

/** Head outputs used by the detection / grounding losses. */
export interface DetectionLossInputs {
  /** [B, K, M_B] exp(logitScale)·region·conceptᵀ + bias. */
  logits: tf.Tensor;
  /** [B, K, 4] decoded xyxy in input pixels (detection only). */
  boxes?: tf.Tensor;
  /** [B, K] centerness logits (detection only). */
  centerness?: tf.Tensor;
}

/** Head / text outputs used by the image-text loss. */
export interface ImageTextLossInputs {
  /** [B, K, D] L2-normalised. */
  regionEmbeddings: tf.Tensor;
  /** [M, D] L2-normalised phrase (+ caption) embeddings of the batch. */
  phraseEmbeddings: tf.Tensor;
  /** [B, K, 4] decoded boxes: needed only when targets.proposals is absent. */
  boxes?: tf.Tensor;
}

export interface ImageTextTargets {
  /** per image: the indices into phraseEmbeddings of its own text's phrases (caption included). */
  imageConcepts: number[][];
  /** per image: kept anchor indices; when absent they are selected here (objectness, NMS, top-k; dataSync). */
  proposals?: Int32Array[];
  /** Distributed: imageConcepts lists the global batch's texts; this gives the global score rows (imageTextLoss.ts). */
  gatherRows?: (local: tf.Tensor2D) => tf.Tensor2D;
}

export function computeLosses(kind: 'detection' | 'grounding', inputs: DetectionLossInputs, targets: DetectionTargets, cfg?: LossConfig): Losses;
export function computeLosses(kind: 'imageText', inputs: ImageTextLossInputs, targets: ImageTextTargets, cfg?: LossConfig): Losses;
export function computeLosses(kind: DataKind, inputs: DetectionLossInputs | ImageTextLossInputs, targets: DetectionTargets | ImageTextTargets, cfg?: LossConfig): Losses;
/**
 * The named scalar losses of one batch. Targets are CPU data (built outside the tape); the tensors made from them
 * here are constants, so this can run inside tf.grad / tf.variableGrads. Nothing but the returned scalars survives.
 */
export function computeLosses(
  kind: DataKind,
  inputs: DetectionLossInputs | ImageTextLossInputs,
  targets: DetectionTargets | ImageTextTargets,
  cfg: LossConfig = DEFAULT_LOSS_CONFIG,
): Losses {
  if (kind === 'imageText') {
    const x = inputs as ImageTextLossInputs;
    const t = targets as ImageTextTargets;
    return tf.tidy(() => {
      const it = cfg.imageText;
      const sim = regionPhraseSimilarity(x.regionEmbeddings, x.phraseEmbeddings); // [B, K, M]
      let proposals = t.proposals;
      if (!proposals) {
        if (!x.boxes) throw new Error('computeLosses(imageText): give targets.proposals or inputs.boxes');
        // objectness = max similarity to all concepts of the batch (same matrix as the loss's)
        proposals = selectProposalsSync(tf.max(sim, -1), x.boxes, { k: it.topK, nmsThreshold: it.nmsThreshold });
      }
      const contrastive = imageTextLossFromSimilarity(sim, proposals, t.imageConcepts, {
        tau: it.tau, labelSmoothing: it.labelSmoothing, mode: it.mode, tauT: it.tauT, symmetric: it.symmetric, centerImages: it.centerImages, gatherRows: t.gatherRows,
      });
      return { contrastive };
    }) as Losses;
  }
  const x = inputs as DetectionLossInputs;
  const t = targets as DetectionTargets;
  const withLocalization = kind === 'detection';
  if (withLocalization && !t.withLocalization) throw new Error('computeLosses(detection): targets were built without localisation');
  const expected = [t.images.length, t.numAnchors, t.numConcepts];
  if (x.logits.shape.join() !== expected.join()) {
    throw new Error(`computeLosses(${kind}): logits ${JSON.stringify(x.logits.shape)}, targets ${JSON.stringify(expected)}`);
  }
  return tf.tidy(() => {
    const align = alignmentLoss(x.logits, classificationTargetTensor(t), t.numPositive, cfg.focal);
    if (!withLocalization) return { align };
    if (!x.boxes || !x.centerness) throw new Error('computeLosses(detection): needs inputs.boxes and inputs.centerness');
    const loc = localizationTargetTensors(t);
    return { align, giou: giouLocalizationLoss(x.boxes, loc), center: centernessLoss(x.centerness, loc) };
  }) as Losses;
}

/** Σ weight·loss over the losses present (main-text weights by default: align 1, giou 2, center 1, contrastive 0.1). */
export function weightedTotal(losses: Losses, weights: LossWeights = LOSS_WEIGHTS_MAIN_TEXT): tf.Scalar {
  const names = Object.keys(losses) as LossName[];
  if (names.length === 0) throw new Error('weightedTotal: no losses');
  return tf.tidy(() => {
    const terms = names.map((n) => {
      const w = weights[n];
      if (typeof w !== 'number') throw new Error(`weightedTotal: no weight for loss '${n}'`);
      return tf.mul(losses[n]!, w);
    });
    return (terms.length === 1 ? terms[0]! : tf.addN(terms)) as tf.Scalar;
  });
}
