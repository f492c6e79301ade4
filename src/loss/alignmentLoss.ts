// Word-region alignment loss (detection and grounding): focal loss of region-concept logits vs the ATSS 0/1
// target matrix, summed and normalised by the number of positive anchors (ATSS / GLIP convention).
import * as tf from '@tensorflow/tfjs';
import { sigmoidFocalLoss } from './sigmoidFocal.ts';

export interface AlignmentOptions {
  alpha?: number;
  gamma?: number;
}

/**
 * logits [B, K, M_B] (exp(logitScale)·cos + bias, from the head), targets [B, K, M_B] 0/1 (built outside the tape),
 * numPositive: positive anchors in the batch -> scalar sum(focal) / max(1, numPositive).
 */
export function alignmentLoss(
  logits: tf.Tensor,
  targets: tf.Tensor,
  numPositive: number,
  opts: AlignmentOptions = {},
): tf.Scalar {
  if (logits.shape.join() !== targets.shape.join()) {
    throw new Error(`alignmentLoss: logits ${JSON.stringify(logits.shape)} vs targets ${JSON.stringify(targets.shape)}`);
  }
  return tf.tidy(() => {
    const sum = sigmoidFocalLoss(logits, targets, { alpha: opts.alpha, gamma: opts.gamma, reduction: 'sum' });
    return tf.div(sum, Math.max(1, numPositive)) as tf.Scalar;
  });
}
