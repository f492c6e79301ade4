// GroupNorm over NHWC maps, as torch.nn.GroupNorm (biased variance per sample and group, eps 1e-5).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { onesInit, zerosInit } from './init.ts';

/** Parameters `weight`, `bias` [C]. */
export class GroupNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: ParamStore, readonly groups: number, readonly channels: number, readonly eps = 1e-5, trainable = true) {
    if (channels % groups !== 0) throw new Error(`GroupNorm: ${channels} channels are not divisible into ${groups} groups`);
    this.weight = store.add('weight', onesInit([channels]), trainable);
    this.bias = store.add('bias', zerosInit([channels]), trainable);
  }

  /** x [B, H, W, C] -> [B, H, W, C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const g = this.groups;
    const xg = tf.reshape(x, [b, h, w, g, c / g]); // [B, H, W, G, C/G]
    const { mean, variance } = tf.moments(xg, [1, 2, 4], true); // [B, 1, 1, G, 1]
    // y = x·scale + shift with scale = w·rsqrt(var + eps), shift = b - mean·scale: small [B, 1, 1, G, C/G] tensors
    const scale = tf.mul(tf.rsqrt(tf.add(variance, this.eps)), tf.reshape(this.weight, [1, 1, 1, g, c / g]));
    const shift = tf.sub(tf.reshape(this.bias, [1, 1, 1, g, c / g]), tf.mul(mean, scale));
    return tf.reshape(tf.add(tf.mul(xg, scale), shift), [b, h, w, c]) as tf.Tensor4D;
  }
}
