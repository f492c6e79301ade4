// What every backbone returns: multi-scale NHWC features at strides 4, 8, 16, 32.
import type * as tf from '@tensorflow/tfjs';

export type FeatureLevel = 'C2' | 'C3' | 'C4' | 'C5';
export const FEATURE_LEVELS: readonly FeatureLevel[] = ['C2', 'C3', 'C4', 'C5'];
export const FEATURE_STRIDES: Record<FeatureLevel, number> = { C2: 4, C3: 8, C4: 16, C5: 32 };

export type BackboneFeatures = Record<FeatureLevel, tf.Tensor4D>;

export interface Backbone {
  /** Channels of each returned level. */
  readonly outChannels: Record<FeatureLevel, number>;
  /** images [B, H, W, 3] -> features; `training` turns on stochastic depth / batch statistics where configured. */
  forward(images: tf.Tensor4D, training: boolean): BackboneFeatures;
  /** Forward multiply-accumulates for one h×w image, and each level's spatial size. */
  macs(h: number, w: number): { macs: number; sizes: Record<FeatureLevel, [number, number]> };
}
