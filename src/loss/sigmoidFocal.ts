// Sigmoid focal loss (Lin et al. 2017), exactly as torchvision.ops.sigmoid_focal_loss.
import * as tf from '@tensorflow/tfjs';

export type Reduction = 'none' | 'sum' | 'mean';

export interface FocalOptions {
  /** Weight of positives (negatives get 1 - alpha); a negative value disables the weighting, as in torchvision. */
  alpha?: number;
  gamma?: number;
  reduction?: Reduction;
}

export function reduce(loss: tf.Tensor, reduction: Reduction): tf.Tensor {
  if (reduction === 'sum') return tf.sum(loss);
  if (reduction === 'mean') return tf.mean(loss);
  return loss;
}

/**
 * Elementwise BCE-with-logits in the stable form max(x,0) - x·t + log(1+exp(-|x|)) (as torch computes it).
 * Differentiable in x; no comparisons, so it can run inside tf.grad.
 */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

/**
 * loss = ce · (1 - p_t)^gamma · (alpha·t + (1-alpha)·(1-t)), p = sigmoid(x), p_t = p·t + (1-p)(1-t).
 * Soft targets in [0, 1] are used literally, as torchvision does.
 */
export function sigmoidFocalLoss(logits: tf.Tensor, targets: tf.Tensor, opts: FocalOptions = {}): tf.Tensor {
  const { alpha = 0.25, gamma = 2, reduction = 'none' } = opts;
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const ce = bceWithLogits(logits, targets);
    const oneMinusT = tf.sub(1, targets);
    const pT = tf.add(tf.mul(p, targets), tf.mul(tf.sub(1, p), oneMinusT));
    const base = tf.sub(1, pT);
    const modulator = gamma === 2 ? tf.square(base) : gamma === 1 ? base : gamma === 0 ? tf.onesLike(base) : tf.pow(base, gamma);
    let loss = tf.mul(ce, modulator);
    if (alpha >= 0) loss = tf.mul(loss, tf.add(tf.mul(alpha, targets), tf.mul(1 - alpha, oneMinusT)));
    return reduce(loss, reduction);
  });
}
