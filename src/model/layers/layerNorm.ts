// LayerNorm over the last axis, biased variance, as torch.nn.LayerNorm.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { onesInit, zerosInit } from './init.ts';

/** Parameters `weight`, `bias` [C]. */
export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: ParamStore, readonly channels: number, readonly eps = 1e-5, trainable = true) {
    this.weight = store.add('weight', onesInit([channels]), trainable);
    this.bias = store.add('bias', zerosInit([channels]), trainable);
  }

  /** x [..., C] -> [..., C]. */
  forward<T extends tf.Tensor>(x: T): T {
    const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
    const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(xhat, this.weight), this.bias) as T;
  }
}
