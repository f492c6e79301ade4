// Swin Transformer v1 backbone with torchvision 0.14 layout and names (features.N..., norm). NHWC throughout.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { Conv2d } from '../layers/conv2d.ts';
import type { InitRng } from '../layers/init.ts';
import { LayerNorm } from '../layers/layerNorm.ts';
import { PatchMerging, SwinBlock } from './swinBlocks.ts';
import type { Backbone, BackboneFeatures, FeatureLevel } from './types.ts';

export interface SwinConfig {
  patchSize: number;
  embedDim: number;
  depths: [number, number, number, number];
  heads: [number, number, number, number];
  window: number;
  mlpRatio: number;
  /** Stochastic depth, rising linearly from 0 to this over all blocks (Swin-T detection: 0.2). */
  dropPath: number;
}

/** Every intermediate tensor torchvision passes between its `features` modules (for golden tests). */
export interface SwinTrace { [name: string]: tf.Tensor4D }

/**
 * features.0 = patch embed (Conv2d k=s=patch, LayerNorm), features.{1,3,5,7} = stages, features.{2,4,6} = merges,
 * norm = final LayerNorm. Detection outputs: C2..C4 = stage outputs through new LayerNorms `out_norms.{0,1,2}`
 * (as mmdet's Swin adds per-output norms), C5 = `norm`(stage 4) (torchvision's final norm).
 * A torchvision checkpoint loads everything except out_norms (which start as identity) and head.* (unused).
 */
export class SwinTransformer implements Backbone {
  readonly outChannels: Record<FeatureLevel, number>;
  private readonly patchConv: Conv2d;
  private readonly patchNorm: LayerNorm;
  readonly stages: SwinBlock[][] = [];
  private readonly merges: PatchMerging[] = [];
  private readonly norm: LayerNorm;
  private readonly outNorms: LayerNorm[] = [];
  private seedCounter: number;

  constructor(store: ParamStore, readonly cfg: SwinConfig, rng: InitRng) {
    const p = cfg.patchSize;
    const c = cfg.embedDim;
    this.patchConv = new Conv2d(store.scope('features.0.0'), { inChannels: 3, outChannels: c, kernel: p, stride: p, padding: 0, bias: true, init: 'normal', std: 0.02 }, rng);
    this.patchNorm = new LayerNorm(store.scope('features.0.2'), c);
    const total = cfg.depths.reduce((a, d) => a + d, 0);
    let blockId = 0;
    for (let s = 0; s < 4; s++) {
      const dim = c * 2 ** s;
      const blocks: SwinBlock[] = [];
      for (let i = 0; i < cfg.depths[s]!; i++) {
        const half = Math.floor(cfg.window / 2);
        blocks.push(new SwinBlock(store.scope(`features.${2 * s + 1}.${i}`), {
          dim, heads: cfg.heads[s]!, window: [cfg.window, cfg.window], shift: i % 2 === 0 ? [0, 0] : [half, half],
          mlpRatio: cfg.mlpRatio, dropPath: total > 1 ? (cfg.dropPath * blockId) / (total - 1) : 0,
        }, rng));
        blockId++;
      }
      this.stages.push(blocks);
      if (s < 3) this.merges.push(new PatchMerging(store.scope(`features.${2 * s + 2}`), dim, rng));
    }
    this.norm = new LayerNorm(store.scope('norm'), c * 8);
    for (let s = 0; s < 3; s++) this.outNorms.push(new LayerNorm(store.scope(`out_norms.${s}`), c * 2 ** s));
    this.outChannels = { C2: c, C3: 2 * c, C4: 4 * c, C5: 8 * c };
    this.seedCounter = Math.floor(rng.next() * 2 ** 30);
  }

  /** Runs the net and records patch_embed, stageS.blockB, stageS, mergeS, final_norm (torchvision's names, S from 1). */
  trace(images: tf.Tensor4D, training = false): SwinTrace {
    const out: SwinTrace = {};
    let x = tf.tidy(() => this.patchNorm.forward(this.patchConv.forward(images))); // [B, H/4, W/4, C]
    out.patch_embed = x;
    for (let s = 0; s < 4; s++) {
      this.stages[s]!.forEach((block, b) => {
        const seed = training ? this.nextSeed() : 0;
        x = tf.tidy(() => block.forward(x, training, seed)); // frees the block's intermediates at once
        out[`stage${s + 1}.block${b}`] = x;
      });
      out[`stage${s + 1}`] = x;
      if (s < 3) {
        x = tf.tidy(() => this.merges[s]!.forward(x));
        out[`merge${s + 1}`] = x;
      }
    }
    out.final_norm = this.norm.forward(x);
    return out;
  }

  forward(images: tf.Tensor4D, training: boolean): BackboneFeatures {
    const t = this.trace(images, training);
    return {
      C2: this.outNorms[0]!.forward(t.stage1!),
      C3: this.outNorms[1]!.forward(t.stage2!),
      C4: this.outNorms[2]!.forward(t.stage3!),
      C5: t.final_norm!,
    };
  }

  private nextSeed(): number {
    this.seedCounter = (this.seedCounter + 2) % 2 ** 30;
    return this.seedCounter;
  }

  macs(h: number, w: number): { macs: number; sizes: Record<FeatureLevel, [number, number]> } {
    let total = this.patchConv.macs(h, w);
    let [ch, cw] = this.patchConv.outSize(h, w);
    const sizes: [number, number][] = [];
    for (let s = 0; s < 4; s++) {
      for (const block of this.stages[s]!) total += block.macs(ch, cw);
      sizes.push([ch, cw]);
      if (s < 3) {
        total += this.merges[s]!.macs(ch, cw);
        [ch, cw] = [Math.ceil(ch / 2), Math.ceil(cw / 2)];
      }
    }
    return { macs: total, sizes: { C2: sizes[0]!, C3: sizes[1]!, C4: sizes[2]!, C5: sizes[3]! } };
  }
}
