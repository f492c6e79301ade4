// Activations whose exact form matters for loading pretrained weights.
import * as tf from '@tensorflow/tfjs';

/** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (torch nn.GELU default; the tanh form does not match torchvision Swin). */
export function geluErf<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
}

/** QuickGELU, x·sigmoid(1.702x) (OpenAI CLIP). */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))) as T;
}
