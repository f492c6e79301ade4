// A small conv-GN-ReLU backbone for the CPU `tiny` preset: a stride-2 stem, then four stages, each a
// stride-2 conv plus residual blocks. At 128 px: C2 32×32, C3 16×16, C4 8×8, C5 4×4.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { ConvGnRelu } from '../layers/convGnRelu.ts';
import type { InitRng } from '../layers/init.ts';
import type { Backbone, BackboneFeatures, FeatureLevel } from './types.ts';

export interface TinyBackboneConfig {
  /** Channels of the stem, C2, C3, C4, C5. */
  channels: [number, number, number, number, number];
  /** Residual blocks per stage (C2..C5). */
  blocks: [number, number, number, number];
  gnGroups: number;
}

/** relu(x + gn2(conv2(relu(gn1(conv1(x)))))), names conv1/conv2 (each a ConvGnRelu with `conv`, `gn`). */
class ResBlock {
  private readonly a: ConvGnRelu;
  private readonly b: ConvGnRelu;

  constructor(store: ParamStore, ch: number, groups: number, rng: InitRng) {
    this.a = new ConvGnRelu(store.scope('conv1'), { inChannels: ch, outChannels: ch, kernel: 3, groups }, rng);
    this.b = new ConvGnRelu(store.scope('conv2'), { inChannels: ch, outChannels: ch, kernel: 3, groups, relu: false }, rng);
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.relu(tf.add(x, this.b.forward(this.a.forward(x))));
  }

  macs(h: number, w: number): number {
    return this.a.macs(h, w) + this.b.macs(h, w);
  }
}

export class TinyBackbone implements Backbone {
  readonly outChannels: Record<FeatureLevel, number>;
  private readonly stem: ConvGnRelu;
  private readonly downs: ConvGnRelu[] = [];
  private readonly stages: ResBlock[][] = [];

  constructor(store: ParamStore, cfg: TinyBackboneConfig, rng: InitRng) {
    const [c0, ...cs] = cfg.channels;
    const groups = (c: number): number => Math.min(cfg.gnGroups, c);
    this.stem = new ConvGnRelu(store.scope('stem'), { inChannels: 3, outChannels: c0, kernel: 3, stride: 2, groups: groups(c0) }, rng);
    let inCh = c0;
    cs.forEach((c, s) => {
      this.downs.push(new ConvGnRelu(store.scope(`stages.${s}.down`), { inChannels: inCh, outChannels: c, kernel: 3, stride: 2, groups: groups(c) }, rng));
      this.stages.push(Array.from({ length: cfg.blocks[s]! }, (_, b) => new ResBlock(store.scope(`stages.${s}.blocks.${b}`), c, groups(c), rng)));
      inCh = c;
    });
    this.outChannels = { C2: cs[0]!, C3: cs[1]!, C4: cs[2]!, C5: cs[3]! };
  }

  forward(images: tf.Tensor4D, _training: boolean): BackboneFeatures {
    let x = this.stem.forward(images);
    const outs: tf.Tensor4D[] = [];
    this.downs.forEach((down, s) => {
      x = tf.tidy(() => {
        let y = down.forward(x);
        for (const block of this.stages[s]!) y = block.forward(y);
        return y;
      });
      outs.push(x);
    });
    return { C2: outs[0]!, C3: outs[1]!, C4: outs[2]!, C5: outs[3]! };
  }

  macs(h: number, w: number): { macs: number; sizes: Record<FeatureLevel, [number, number]> } {
    let total = this.stem.macs(h, w);
    let [ch, cw] = this.stem.outSize(h, w);
    const sizes: [number, number][] = [];
    this.downs.forEach((down, s) => {
      total += down.macs(ch, cw);
      [ch, cw] = down.outSize(ch, cw);
      for (const block of this.stages[s]!) total += block.macs(ch, cw);
      sizes.push([ch, cw]);
    });
    return { macs: total, sizes: { C2: sizes[0]!, C3: sizes[1]!, C4: sizes[2]!, C5: sizes[3]! } };
  }
}
