// One DetCLIPv2 training step on one batch of one data kind: text + image forward, the kind's losses
// (alignment / GIoU / centerness, or image-text contrastive), gradients of the weighted total.
import * as tf from '@tensorflow/tfjs';
import type { DetClip } from '../model/detclip.ts';
import type { Batch } from '../data/types.ts';
import { tokenize } from '../model/text/tokenizer.ts';
import { buildDetectionTargets } from '../loss/detectionTargets.ts';
import { computeLosses, weightedTotal } from '../loss/criterion.ts';
import { lossConfigSchema, type LossConfig } from '../loss/lossConfig.ts';
import type { TrainConfig } from './trainConfig.ts';
import type { StepFn } from './trainLoop.ts';
import type { GradMap } from './gradClip.ts';
import { variableGrads } from './variableGrads.ts';
import type { DataParallel } from './distributed/dataParallel.ts';

/** The library-level loss config from the training config (the one validated at the edge). */
export function lossConfigFrom(cfg: TrainConfig): LossConfig {
  const it = cfg.imageText;
  return lossConfigSchema.parse({
    weights: cfg.loss,
    focal: cfg.focal,
    imageText: { tau: it.tau, labelSmoothing: it.labelSmoothing, mode: it.mode, tauT: it.tauT, symmetric: it.symmetric, centerImages: it.centerImages ?? false, topK: it.k, nmsThreshold: it.nmsThreshold },
  });
}

export interface StepResult { losses: Record<string, number>; grads: GradMap }

/**
 * Forward + losses + gradients for one batch. The caller owns (and disposes) the returned grads.
 * With `dp`, the batch is this rank's slice of the global batch: the gradients are this rank's share (summed
 * over ranks they are those of one process on the whole batch; see distributed/dataParallel.ts) and the losses
 * are the whole batch's (the shares summed here).
 */
export function computeGradients(model: DetClip, localBatch: Batch, lossCfg: LossConfig, dp?: DataParallel): StepResult {
  const view = dp?.globalize(localBatch);
  const batch = view?.batch ?? localBatch;
  const b = batch.imageSizes.length;
  const { anchors } = model.image.anchorsFor(batch.height, batch.width);
  const ctx = model.cfg.text.contextLength;
  const ids = tokenize(batch.concepts, ctx);
  const targets = batch.kind === 'imageText' ? null : buildDetectionTargets({
    anchors, points: anchors.points, batchBoxes: batch.boxes, batchBoxLabels: batch.boxLabels,
    numConcepts: batch.concepts.length, withLocalization: batch.kind === 'detection',
  });
  if (dp && targets) {
    // the normalisers of the whole batch (mmdetection's reduce_mean, as a sum: see dataParallel.ts)
    let c = 0;
    for (const im of targets.images) if (im.centerness) for (const v of im.centerness) c += v;
    [targets.numPositive, targets.centernessSum] = dp.sum([targets.numPositive, c]);
  }
  const vars = model.store.entries({ trainableOnly: true }).map(([, v]) => v);
  const losses: Record<string, number> = {};
  const { value, grads } = variableGrads(() => {
    const images = tf.tensor4d(batch.pixels, [b, batch.height, batch.width, 3]);
    const concepts = model.text.forward(tf.tensor2d(ids, [batch.concepts.length, ctx], 'int32')); // [M_B, D]
    const enc = model.image.encodeImage(images, true);
    const parts = targets
      ? computeLosses(batch.kind as 'detection' | 'grounding', {
        logits: model.image.similarityLogits(enc.regionEmbeddings, concepts), // [B, K, M_B]
        boxes: enc.boxes, centerness: enc.centerness,
      }, targets, lossCfg)
      : computeLosses('imageText', {
        regionEmbeddings: enc.regionEmbeddings,
        // [M_B, D]: unit length times the head's learned similarity scale, so word-region scores are the same
        // scaled similarities the alignment loss uses (cosines alone span too little for tau = 0.5)
        phraseEmbeddings: tf.mul(tf.div(concepts, tf.add(tf.norm(concepts, 2, -1, true), 1e-6)), model.image.head.similarityScale()),
        boxes: enc.boxes,
      }, view
        ? { imageConcepts: view.texts, gatherRows: (local) => dp!.gatherRows(local, view.offset, view.total) }
        : { imageConcepts: batch.imageConcepts }, lossCfg);
    for (const [k, v] of Object.entries(parts)) losses[k] = v!.dataSync()[0]!;
    return weightedTotal(parts, lossCfg.weights);
  }, vars);
  losses.total = value.dataSync()[0]!;
  value.dispose();
  // every rank computes the whole image-text loss (from the global scores): its share of the value is 1/W
  if (dp && batch.kind === 'imageText') for (const k of Object.keys(losses)) losses[k]! /= dp.worldSize;
  return { losses: dp ? dp.sumLosses(losses) : losses, grads: new Map(Object.entries(grads)) };
}

/**
 * The step function for runTraining: gradients of this micro-batch handed to the loop's optimizer update
 * (which, distributed, sums them over ranks). The losses returned are the global batch's.
 */
export function makeTrainStep(model: DetClip, cfg: TrainConfig, dp?: DataParallel): StepFn<Batch> {
  const lossCfg = lossConfigFrom(cfg);
  return async (batch, ctx) => {
    const { losses, grads } = computeGradients(model, batch, lossCfg, dp);
    ctx.update(grads);
    return { losses };
  };
}
