// ResNet (BasicBlock / Bottleneck v1.5) with torchvision parameter names, NHWC. Returns C2..C5.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { BatchNorm2d, type BatchNormConfig } from '../layers/batchNorm.ts';
import { Conv2d, convOutSize } from '../layers/conv2d.ts';
import type { InitRng } from '../layers/init.ts';
import type { Backbone, BackboneFeatures, FeatureLevel } from './types.ts';

export interface ResNetConfig {
  block: 'basic' | 'bottleneck';
  /** Blocks per stage, e.g. [3, 4, 6, 3] for ResNet-50. */
  depths: [number, number, number, number];
  /** torchvision `planes` per stage (64, 128, 256, 512 normally); outputs have planes·expansion channels. */
  planes?: [number, number, number, number];
  stemChannels?: number;
  /** BatchNorm in eval mode even when training (mmdet norm_eval=True). */
  frozenBn: boolean;
  freezeBnAffine?: boolean;
  /** mmdet frozen_stages: 0 trains everything; n >= 1 freezes the stem and layer1..layer n. */
  frozenStages?: number;
}

const EXPANSION = { basic: 1, bottleneck: 4 } as const;

/**
 * bn(conv(x)) (+ ReLU). With running statistics, BN is folded into the conv (filter·scale, bias = shift) so one
 * fused kernel does conv + BN + ReLU; gradients still reach BN's weight and bias through scale and shift.
 */
export function convBn(conv: Conv2d, bn: BatchNorm2d, x: tf.Tensor4D, training: boolean, relu: boolean): tf.Tensor4D {
  if (bn.usesRunningStats(training)) {
    const { scale, shift } = bn.scaleShift();
    return conv.forwardWith(x, tf.mul(conv.weight, scale) as tf.Tensor4D, shift, relu ? 'relu' : 'linear'); // HWIO · [Cout]
  }
  const y = bn.forward(conv.forward(x), training);
  return relu ? tf.relu(y) : y;
}

/** A frozen stage's BN is fully frozen (running statistics, fixed affine), as mmdet's _freeze_stages. */
const frozenIf = (bn: BatchNormConfig, frozen: boolean): BatchNormConfig =>
  frozen ? { ...bn, frozen: true, freezeAffine: true } : bn;

/** One residual block (torchvision BasicBlock or Bottleneck with the stride on the 3×3 conv). */
class ResidualBlock {
  private readonly convs: Conv2d[] = [];
  private readonly bns: BatchNorm2d[] = [];
  private readonly down: { conv: Conv2d; bn: BatchNorm2d } | null = null;

  constructor(store: ParamStore, kind: 'basic' | 'bottleneck', inCh: number, planes: number, stride: number,
    bn: BatchNormConfig, trainable: boolean, rng: InitRng) {
    const outCh = planes * EXPANSION[kind];
    const specs: [number, number, number, number][] = kind === 'basic' // [kernel, in, out, stride]
      ? [[3, inCh, planes, stride], [3, planes, planes, 1]]
      : [[1, inCh, planes, 1], [3, planes, planes, stride], [1, planes, outCh, 1]];
    specs.forEach(([k, i, o, s], n) => {
      this.convs.push(new Conv2d(store.scope(`conv${n + 1}`), { inChannels: i, outChannels: o, kernel: k, stride: s, trainable }, rng));
      this.bns.push(new BatchNorm2d(store.scope(`bn${n + 1}`), o, frozenIf(bn, !trainable)));
    });
    if (stride !== 1 || inCh !== outCh) {
      this.down = {
        conv: new Conv2d(store.scope('downsample.0'), { inChannels: inCh, outChannels: outCh, kernel: 1, stride, trainable }, rng),
        bn: new BatchNorm2d(store.scope('downsample.1'), outCh, frozenIf(bn, !trainable)),
      };
    }
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    let y = x;
    this.convs.forEach((conv, i) => { y = convBn(conv, this.bns[i]!, y, training, i < this.convs.length - 1); });
    const identity = this.down ? convBn(this.down.conv, this.down.bn, x, training, false) : x;
    return tf.relu(tf.add(y, identity));
  }

  macs(h: number, w: number): { macs: number; h: number; w: number } {
    let total = 0;
    let [ch, cw] = [h, w];
    for (const conv of this.convs) {
      total += conv.macs(ch, cw);
      [ch, cw] = conv.outSize(ch, cw);
    }
    if (this.down) total += this.down.conv.macs(h, w);
    return { macs: total, h: ch, w: cw };
  }
}

/**
 * torchvision ResNet without avgpool/fc. Names: conv1, bn1, layer{1..4}.{i}.conv{1,2,3}, .bn{1,2,3},
 * .downsample.{0,1}. `frozenStages` follows mmdet: 0 freezes nothing, 1 freezes the stem and layer1,
 * n freezes the stem and layer1..layer n.
 */
export class ResNet implements Backbone {
  readonly outChannels: Record<FeatureLevel, number>;
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly stages: ResidualBlock[][] = [];

  constructor(store: ParamStore, cfg: ResNetConfig, rng: InitRng) {
    const planes = cfg.planes ?? [64, 128, 256, 512];
    const stem = cfg.stemChannels ?? 64;
    const frozen = cfg.frozenStages ?? 0;
    const bn: BatchNormConfig = { frozen: cfg.frozenBn, freezeAffine: cfg.freezeBnAffine ?? false };
    const stemTrainable = frozen < 1;
    this.conv1 = new Conv2d(store.scope('conv1'), { inChannels: 3, outChannels: stem, kernel: 7, stride: 2, padding: 3, trainable: stemTrainable }, rng);
    this.bn1 = new BatchNorm2d(store.scope('bn1'), stem, frozenIf(bn, !stemTrainable));
    let inCh = stem;
    for (let s = 0; s < 4; s++) {
      const blocks: ResidualBlock[] = [];
      for (let b = 0; b < cfg.depths[s]!; b++) {
        const stride = b === 0 && s > 0 ? 2 : 1;
        blocks.push(new ResidualBlock(store.scope(`layer${s + 1}.${b}`), cfg.block, inCh, planes[s]!, stride, bn, frozen < s + 1, rng));
        inCh = planes[s]! * EXPANSION[cfg.block];
      }
      this.stages.push(blocks);
    }
    const out = planes.map((p) => p * EXPANSION[cfg.block]);
    this.outChannels = { C2: out[0]!, C3: out[1]!, C4: out[2]!, C5: out[3]! };
  }

  /** maxpool(relu(bn1(conv1(x)))): [B, H, W, 3] -> [B, H/4, W/4, stem]. */
  stem(x: tf.Tensor4D, training = false): tf.Tensor4D {
    const y = convBn(this.conv1, this.bn1, x, training, true);
    // torch pads the max-pool with -inf; after ReLU (>= 0) zero padding gives the same maxima.
    return tf.maxPool(tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 2, 'valid');
  }

  forward(images: tf.Tensor4D, training: boolean): BackboneFeatures {
    let x = tf.tidy(() => this.stem(images, training));
    const outs: tf.Tensor4D[] = [];
    for (const blocks of this.stages) {
      // a tidy per block frees its intermediates at once (the gradient tape keeps what backprop needs)
      for (const block of blocks) x = tf.tidy(() => block.forward(x, training));
      outs.push(x);
    }
    return { C2: outs[0]!, C3: outs[1]!, C4: outs[2]!, C5: outs[3]! };
  }

  macs(h: number, w: number): { macs: number; sizes: Record<FeatureLevel, [number, number]> } {
    let total = this.conv1.macs(h, w);
    let [ch, cw] = this.conv1.outSize(h, w);
    [ch, cw] = [convOutSize(ch, 3, 2, 1), convOutSize(cw, 3, 2, 1)];
    const sizes: [number, number][] = [];
    for (const blocks of this.stages) {
      for (const block of blocks) {
        const r = block.macs(ch, cw);
        total += r.macs;
        [ch, cw] = [r.h, r.w];
      }
      sizes.push([ch, cw]);
    }
    return { macs: total, sizes: { C2: sizes[0]!, C3: sizes[1]!, C4: sizes[2]!, C5: sizes[3]! } };
  }
}
