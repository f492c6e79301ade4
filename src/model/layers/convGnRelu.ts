// conv (no bias) -> GroupNorm -> ReLU, mmcv ConvModule names `conv`, `gn` (the ATSS tower unit).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { Conv2d, type Conv2dConfig } from './conv2d.ts';
import { GroupNorm } from './groupNorm.ts';
import type { InitRng } from './init.ts';

export class ConvGnRelu {
  readonly conv: Conv2d;
  readonly gn: GroupNorm;
  private readonly relu: boolean;

  constructor(store: ParamStore, cfg: Omit<Conv2dConfig, 'bias'> & { groups: number; relu?: boolean }, rng: InitRng) {
    this.conv = new Conv2d(store.scope('conv'), { ...cfg, bias: false }, rng);
    this.gn = new GroupNorm(store.scope('gn'), cfg.groups, cfg.outChannels);
    this.relu = cfg.relu ?? true;
  }

  /** x [B, H, W, Cin] -> [B, Ho, Wo, Cout]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.gn.forward(this.conv.forward(x));
    return this.relu ? tf.relu(y) : y;
  }

  macs(h: number, w: number): number {
    return this.conv.macs(h, w);
  }

  outSize(h: number, w: number): [number, number] {
    return this.conv.outSize(h, w);
  }
}
