// 2-D convolution with torch semantics (symmetric explicit padding), NHWC input, HWIO weight, optional bias.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { kaimingNormalHwio, normalInit, xavierUniformHwio, zerosInit, type InitRng } from './init.ts';

export interface Conv2dConfig {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Pixels added on every side, as torch's `padding=p`. Default: kernel//2 · dilation. */
  padding?: number;
  dilation?: number;
  bias?: boolean;
  /** 'kaiming' (normal, fan_out: ReLU nets), 'xavier' (uniform, as mmdet's FPN), 'normal' (std below) or 'zeros'. */
  init?: 'kaiming' | 'xavier' | 'normal' | 'zeros';
  std?: number;
  trainable?: boolean;
}

/** Output size of a conv/pool along one axis (torch's floor formula). */
export function convOutSize(size: number, kernel: number, stride: number, padding: number, dilation = 1): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Parameters `weight` [k, k, Cin, Cout] and (optional) `bias` [Cout]. */
export class Conv2d {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly kernel: number;
  readonly inChannels: number;
  readonly outChannels: number;

  constructor(store: ParamStore, cfg: Conv2dConfig, rng: InitRng) {
    this.kernel = cfg.kernel;
    this.stride = cfg.stride ?? 1;
    this.dilation = cfg.dilation ?? 1;
    this.padding = cfg.padding ?? Math.floor(cfg.kernel / 2) * this.dilation;
    this.inChannels = cfg.inChannels;
    this.outChannels = cfg.outChannels;
    const shape: [number, number, number, number] = [cfg.kernel, cfg.kernel, cfg.inChannels, cfg.outChannels];
    const init = cfg.init ?? 'kaiming';
    const w = init === 'kaiming' ? kaimingNormalHwio(rng, shape)
      : init === 'xavier' ? xavierUniformHwio(rng, shape)
        : init === 'zeros' ? zerosInit(shape) : normalInit(rng, shape, cfg.std ?? 0.01);
    const trainable = cfg.trainable ?? true;
    this.weight = store.add('weight', w, trainable);
    this.bias = cfg.bias ? store.add('bias', zerosInit([cfg.outChannels]), trainable) : null;
  }

  /** x [B, H, W, Cin] -> [B, Ho, Wo, Cout]. */
  forward(x: tf.Tensor4D, activation: 'linear' | 'relu' = 'linear'): tf.Tensor4D {
    return this.forwardWith(x, this.weight as tf.Tensor4D, this.bias as tf.Tensor1D | null, activation);
  }

  /**
   * The same conv with a substitute filter/bias (e.g. a frozen BN folded in): one fused kernel does
   * conv + bias + activation, saving full-size elementwise passes.
   */
  forwardWith(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D | null, activation: 'linear' | 'relu' = 'linear'): tf.Tensor4D {
    const p = this.padding;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [p, p], [p, p], [0, 0]];
    const padding = p === 0 ? 'valid' : pad;
    if (this.dilation !== 1) { // fused conv has no gradient for dilation > 1
      const y = tf.conv2d(x, filter, this.stride, padding, 'NHWC', this.dilation);
      const yb = bias ? tf.add(y, bias) as tf.Tensor4D : y;
      return activation === 'relu' ? tf.relu(yb) : yb;
    }
    return tf.fused.conv2d({ x, filter, strides: this.stride, pad: padding, dataFormat: 'NHWC', bias: bias ?? undefined, activation });
  }

  outSize(h: number, w: number): [number, number] {
    return [convOutSize(h, this.kernel, this.stride, this.padding, this.dilation), convOutSize(w, this.kernel, this.stride, this.padding, this.dilation)];
  }

  /** Multiply-accumulates for an input of h×w (per image). */
  macs(h: number, w: number): number {
    const [ho, wo] = this.outSize(h, w);
    return ho * wo * this.kernel * this.kernel * this.inChannels * this.outChannels;
  }
}
