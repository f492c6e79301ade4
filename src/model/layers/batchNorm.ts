// BatchNorm2d with torchvision names. Detection backbones keep it frozen (eval statistics), as mmdet's norm_eval.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { onesInit, zerosInit } from './init.ts';

export interface BatchNormConfig {
  /** Use running statistics even when training (mmdet norm_eval / torchvision FrozenBatchNorm2d). */
  frozen: boolean;
  /** Also make weight/bias non-trainable. */
  freezeAffine?: boolean;
  eps?: number;
  momentum?: number;
}

/** Parameters `weight`, `bias` (trainable unless freezeAffine), `running_mean`, `running_var` (never trainable). */
export class BatchNorm2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly eps: number;
  readonly momentum: number;
  readonly frozen: boolean;

  constructor(store: ParamStore, readonly channels: number, cfg: BatchNormConfig) {
    const affine = !cfg.freezeAffine;
    this.weight = store.add('weight', onesInit([channels]), affine);
    this.bias = store.add('bias', zerosInit([channels]), affine);
    this.runningMean = store.add('running_mean', zerosInit([channels]), false);
    this.runningVar = store.add('running_var', onesInit([channels]), false);
    this.eps = cfg.eps ?? 1e-5;
    this.momentum = cfg.momentum ?? 0.1;
    this.frozen = cfg.frozen;
  }

  usesRunningStats(training: boolean): boolean {
    return !training || this.frozen;
  }

  /** Eval-mode BN as y = x·scale + shift, scale = w/√(var + eps), shift = b - mean·scale (both [C]). */
  scaleShift(): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps))) as tf.Tensor1D;
    return { scale, shift: tf.sub(this.bias, tf.mul(this.runningMean, scale)) as tf.Tensor1D };
  }

  /**
   * x [B, H, W, C]. Eval (or frozen): (x - mean)/sqrt(var + eps)·w + b with running statistics.
   * Training and not frozen: batch statistics, and the running statistics are updated as torch does
   * (momentum 0.1, unbiased variance).
   */
  forward(x: tf.Tensor4D, training = false): tf.Tensor4D {
    if (this.usesRunningStats(training)) {
      const { scale, shift } = this.scaleShift();
      return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]); // [C]
    const n = x.size / this.channels;
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
    });
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(xhat, this.weight), this.bias) as tf.Tensor4D;
  }
}
