// Feature pyramid (Lin et al. 2017) over C3..C5 -> P3..P5, plus optional P6, P7 by stride-2 3×3 convs on the
// previous output (mmdet FPN with add_extra_convs='on_output', no ReLU before them: the ATSS/RetinaNet setting).
// Names follow mmdet: lateral_convs.{i}.conv, fpn_convs.{i}.conv (extra levels continue fpn_convs' numbering).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { Conv2d } from '../layers/conv2d.ts';
import type { InitRng } from '../layers/init.ts';
import type { BackboneFeatures } from '../backbone/types.ts';

export interface FpnConfig {
  /** Channels of C3, C4, C5. */
  inChannels: [number, number, number];
  outChannels: number;
  /** 0: P3..P5 (strides 8..32); 1: + P6; 2: + P6, P7 (strides up to 128). */
  extraLevels: number;
}

export class Fpn {
  private readonly laterals: Conv2d[];
  private readonly outputs: Conv2d[];
  private readonly extras: Conv2d[];
  /** Stride of each output level. */
  readonly strides: number[];

  constructor(store: ParamStore, readonly cfg: FpnConfig, rng: InitRng) {
    const c = cfg.outChannels;
    this.laterals = cfg.inChannels.map((ci, i) => new Conv2d(store.scope(`lateral_convs.${i}.conv`), { inChannels: ci, outChannels: c, kernel: 1, bias: true, init: 'xavier' }, rng));
    this.outputs = cfg.inChannels.map((_, i) => new Conv2d(store.scope(`fpn_convs.${i}.conv`), { inChannels: c, outChannels: c, kernel: 3, bias: true, init: 'xavier' }, rng));
    this.extras = Array.from({ length: cfg.extraLevels }, (_, e) => new Conv2d(store.scope(`fpn_convs.${3 + e}.conv`), { inChannels: c, outChannels: c, kernel: 3, stride: 2, padding: 1, bias: true, init: 'xavier' }, rng));
    this.strides = [8, 16, 32, ...this.extras.map((_, e) => 64 * 2 ** e)];
  }

  /** {C3, C4, C5} -> [P3, P4, P5(, P6, P7)], each [B, h_l, w_l, outChannels]. */
  forward(features: Pick<BackboneFeatures, 'C3' | 'C4' | 'C5'>): tf.Tensor4D[] {
    const ins = [features.C3, features.C4, features.C5];
    const lat = ins.map((x, i) => this.laterals[i]!.forward(x));
    for (let i = lat.length - 2; i >= 0; i--) {
      const [, h, w] = lat[i]!.shape;
      // nearest upsampling to the lateral's size (torch F.interpolate(size=...) picks floor(dst·in/out) as tf does)
      lat[i] = tf.add(lat[i]!, tf.image.resizeNearestNeighbor(lat[i + 1]!, [h, w]));
    }
    const outs = lat.map((x, i) => this.outputs[i]!.forward(x));
    for (const extra of this.extras) outs.push(extra.forward(outs[outs.length - 1]!));
    return outs;
  }

  /** Output size of every level for C3..C5 sizes. */
  levelSizes(sizes: [number, number][]): [number, number][] {
    const out = [...sizes];
    for (const extra of this.extras) out.push(extra.outSize(...out[out.length - 1]!));
    return out;
  }

  /** Multiply-accumulates for C3..C5 of the given sizes (per image). */
  macs(sizes: [number, number][]): number {
    let total = 0;
    sizes.forEach(([h, w], i) => { total += this.laterals[i]!.macs(h, w) + this.outputs[i]!.macs(h, w); });
    const all = this.levelSizes(sizes);
    this.extras.forEach((extra, e) => { total += extra.macs(...all[2 + e]!); });
    return total;
  }
}
