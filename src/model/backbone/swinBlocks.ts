// Swin v1 block and patch merging (torchvision 0.14 names: norm1, attn, norm2, mlp.0, mlp.3; reduction, norm).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { geluErf } from '../layers/activations.ts';
import type { InitRng } from '../layers/init.ts';
import { LayerNorm } from '../layers/layerNorm.ts';
import { Linear } from '../layers/linear.ts';
import { ShiftedWindowAttention } from './swinAttention.ts';

/** Per-sample stochastic depth (torchvision mode "row"): drop the residual branch with prob p, scale by 1/(1-p). */
export function dropPath(x: tf.Tensor4D, p: number, seed: number): tf.Tensor4D {
  if (p <= 0) return x;
  const keep = tf.floor(tf.add(tf.randomUniform([x.shape[0], 1, 1, 1], 0, 1, 'float32', seed), 1 - p));
  return tf.mul(x, tf.div(keep, 1 - p));
}

export interface SwinBlockConfig { dim: number; heads: number; window: [number, number]; shift: [number, number]; mlpRatio: number; dropPath: number }

export class SwinBlock {
  private readonly norm1: LayerNorm;
  readonly attn: ShiftedWindowAttention;
  private readonly norm2: LayerNorm;
  private readonly fc1: Linear;
  private readonly fc2: Linear;

  constructor(store: ParamStore, readonly cfg: SwinBlockConfig, rng: InitRng) {
    this.norm1 = new LayerNorm(store.scope('norm1'), cfg.dim);
    this.attn = new ShiftedWindowAttention(store.scope('attn'), cfg, rng);
    this.norm2 = new LayerNorm(store.scope('norm2'), cfg.dim);
    const hidden = Math.round(cfg.dim * cfg.mlpRatio);
    this.fc1 = new Linear(store.scope('mlp.0'), { inFeatures: cfg.dim, outFeatures: hidden, init: 'normal' }, rng);
    this.fc2 = new Linear(store.scope('mlp.3'), { inFeatures: hidden, outFeatures: cfg.dim, init: 'normal' }, rng);
  }

  /** x [B, H, W, C] -> [B, H, W, C]; `seed` drives stochastic depth when training. */
  forward(x: tf.Tensor4D, training: boolean, seed = 0): tf.Tensor4D {
    const p = training ? this.cfg.dropPath : 0;
    const a = this.attn.forward(this.norm1.forward(x));
    const y = tf.add(x, dropPath(a, p, seed)) as tf.Tensor4D;
    const m = this.fc2.forward(geluErf(this.fc1.forward(this.norm2.forward(y))));
    return tf.add(y, dropPath(m, p, seed + 1)) as tf.Tensor4D;
  }

  macs(h: number, w: number): number {
    return this.attn.macs(h, w) + this.fc1.macs(h * w) + this.fc2.macs(h * w);
  }
}

/** 2×2 patch merging: pad to even, concat [x(0,0), x(1,0), x(0,1), x(1,1)] (row, col offsets), LayerNorm(4C), Linear(4C→2C, no bias). */
export class PatchMerging {
  private readonly norm: LayerNorm;
  private readonly reduction: Linear;

  constructor(store: ParamStore, readonly dim: number, rng: InitRng) {
    this.reduction = new Linear(store.scope('reduction'), { inFeatures: 4 * dim, outFeatures: 2 * dim, bias: false, init: 'normal' }, rng);
    this.norm = new LayerNorm(store.scope('norm'), 4 * dim);
  }

  /** x [B, H, W, C] -> [B, ceil(H/2), ceil(W/2), 2C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const ph = h + (h % 2);
    const pw = w + (w % 2);
    const padded = ph > h || pw > w ? tf.pad(x, [[0, 0], [0, ph - h], [0, pw - w], [0, 0]]) : x;
    // [B, H/2, 2(row), W/2, 2(col), C] -> [B, H/2, W/2, col, row, C]: channel block = row + 2·col = x0, x1, x2, x3
    const cat = tf.reshape(tf.transpose(tf.reshape(padded, [b, ph / 2, 2, pw / 2, 2, c]), [0, 1, 3, 4, 2, 5]), [b, ph / 2, pw / 2, 4 * c]);
    return this.reduction.forward(this.norm.forward(cat)) as tf.Tensor4D;
  }

  macs(h: number, w: number): number {
    return this.reduction.macs(Math.ceil(h / 2) * Math.ceil(w / 2));
  }
}
