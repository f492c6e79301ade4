// Linear layer with torch's weight layout [out, in] (so torch/open_clip/HF checkpoints load without conversion).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { normalInit, uniformInit, zerosInit, type InitRng } from './init.ts';

export interface LinearConfig {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  /** 'torch' = U(±1/√in) like nn.Linear; 'normal' = N(0, std²) truncated at 2σ (Swin/ViT style, std .02). */
  init?: 'torch' | 'normal';
  std?: number;
  trainable?: boolean;
}

/** Parameters `weight` [out, in] and (optional) `bias` [out]. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(store: ParamStore, cfg: LinearConfig, rng: InitRng) {
    this.inFeatures = cfg.inFeatures;
    this.outFeatures = cfg.outFeatures;
    const shape = [cfg.outFeatures, cfg.inFeatures];
    const bound = 1 / Math.sqrt(cfg.inFeatures);
    const w = (cfg.init ?? 'torch') === 'torch' ? uniformInit(rng, shape, -bound, bound) : normalInit(rng, shape, cfg.std ?? 0.02, true);
    const trainable = cfg.trainable ?? true;
    this.weight = store.add('weight', w, trainable);
    this.bias = (cfg.bias ?? true) ? store.add('bias', zerosInit([cfg.outFeatures]), trainable) : null;
  }

  /** x [..., in] -> [..., out]. */
  forward<T extends tf.Tensor>(x: T): T {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
    let y: tf.Tensor = tf.matMul(x2, this.weight as tf.Tensor2D, false, true); // [N, out]
    if (this.bias) y = tf.add(y, this.bias);
    return tf.reshape(y, [...lead, this.outFeatures]) as T;
  }

  /** Multiply-accumulates for `tokens` input rows. */
  macs(tokens: number): number {
    return tokens * this.inFeatures * this.outFeatures;
  }
}
