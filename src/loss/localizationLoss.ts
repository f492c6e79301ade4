// Localisation losses of detection data (none for grounding): centerness-weighted GIoU and centerness BCE,
// both on positive anchors only, normalised as mmdetection's ATSSHead does.
import * as tf from '@tensorflow/tfjs';
import { giouLoss } from './giouLoss.ts';
import { bceWithLogits } from './sigmoidFocal.ts';

/** Targets as tensors, built outside the tape (see detectionTargets.ts). */
export interface LocalizationTargets {
  /** [B, K, 4] xyxy gt box of each positive anchor; any finite box elsewhere (ignored). */
  boxes: tf.Tensor;
  /** [B, K, 4] bool: true on the 4 coordinates of positive anchors. */
  positiveBoxMask: tf.Tensor;
  /** [B, K] 1 on positive anchors, 0 elsewhere. */
  positiveWeight: tf.Tensor;
  /** [B, K] FCOS/ATSS centerness of the assigned gt w.r.t. the anchor centre; 0 on negatives. */
  centerness: tf.Tensor;
  numPositive: number;
  /** Sum of centerness targets over positives (the GIoU normaliser before clamping). */
  centernessSum: number;
}

/**
 * GIoU loss of decoded predicted boxes [B, K, 4] vs gt boxes on positives, weighted by the centerness target and
 * divided by max(1, Σ centerness targets) (mmdetection ATSSHead: bbox_avg_factor clamped at 1).
 * Negatives see their own predicted box swapped for the (finite) target through tf.where, so a degenerate
 * negative box cannot put NaN into the forward value; their gradient is exactly 0.
 */
export function giouLocalizationLoss(predBoxes: tf.Tensor, t: LocalizationTargets): tf.Scalar {
  return tf.tidy(() => {
    if (t.numPositive === 0) return tf.mul(tf.sum(predBoxes), 0) as tf.Scalar; // keeps the graph connected
    const safePred = tf.where(t.positiveBoxMask, predBoxes, t.boxes);
    const perAnchor = giouLoss(safePred, t.boxes); // [B, K]
    return tf.div(tf.sum(tf.mul(perAnchor, t.centerness)), Math.max(1, t.centernessSum)) as tf.Scalar;
  });
}

/** BCE-with-logits of centerness logits [B, K] vs targets on positives, mean over positives (max(1, P)). */
export function centernessLoss(centernessLogits: tf.Tensor, t: LocalizationTargets): tf.Scalar {
  return tf.tidy(() => {
    const bce = bceWithLogits(centernessLogits, t.centerness);
    return tf.div(tf.sum(tf.mul(bce, t.positiveWeight)), Math.max(1, t.numPositive)) as tf.Scalar;
  });
}
