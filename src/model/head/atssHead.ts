// ATSS head with region embeddings (DetCLIPv2 §3): shared towers over all FPN levels. The classification tower
// starts with a modulated deformable conv (DCNv2) that samples the FPN feature with offsets and masks predicted
// from the regression tower's output, so alignment (classification) gradients reach the regression branch.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { Conv2d } from '../layers/conv2d.ts';
import { ConvGnRelu } from '../layers/convGnRelu.ts';
import { GroupNorm } from '../layers/groupNorm.ts';
import { biasForPrior, fillInit, type InitRng } from '../layers/init.ts';
import { deformConv2d } from '../../ops/deformConv2d.ts';
import type { HeadConfig } from '../../config/model.ts';

/** Init of the tower convs (see HeadSchema.towerInit). */
type TowerInit = NonNullable<HeadConfig['towerInit']>;

export interface AtssHeadConfig {
  inChannels: number;
  towerConvs: number;
  gnGroups: number;
  useDcn: boolean;
  embedDim: number;
  priorProb: number;
  regActivation: 'exp' | 'relu';
  logitScaleInit: number;
  towerInit?: TowerInit;
  /** Stride of each input level (one learnable regression scale per level). */
  strides: number[];
}

const TAPS = 9; // 3×3 kernel
const MAX_LOGIT_SCALE = 100; // CLIP's cap on exp(logit_scale)
const MAX_EXP = 10; // exp(10)·stride is far beyond any image: the cap only stops overflow

/** Per-level outputs, flattened row-major: [B, h·w, ·]. */
export type HeadLevelOutput = {
  embeddings: tf.Tensor3D; // [B, hw, D], L2-normalised
  ltrb: tf.Tensor3D; // [B, hw, 4], input pixels
  centerness: tf.Tensor2D; // [B, hw] logits
};

/**
 * The first classification-tower layer, `cls_convs.0`: DCNv2 (`conv`, HWIO, no bias) whose offsets/masks come
 * from `conv_offset` (3×3 conv on the regression-tower output, 27 channels: 18 offsets in deformConv2d's
 * (dy, dx)-per-tap layout, then 9 mask logits -> sigmoid), then GroupNorm `gn` and ReLU.
 * With useDcn false it is a plain 3×3 conv (+ GN, ReLU) with the same names and no `conv_offset`.
 */
class DeformableClsConv {
  private readonly conv: Conv2d;
  private readonly convOffset: Conv2d | null;
  private readonly gn: GroupNorm;

  constructor(store: ParamStore, ch: number, groups: number, useDcn: boolean, rng: InitRng, init: TowerInit = 'normal') {
    this.conv = new Conv2d(store.scope('conv'), { inChannels: ch, outChannels: ch, kernel: 3, init, std: 0.01 }, rng);
    // Zero init (mmcv): training starts from the plain conv with mask 0.5 everywhere.
    this.convOffset = useDcn ? new Conv2d(store.scope('conv_offset'), { inChannels: ch, outChannels: 3 * TAPS, kernel: 3, bias: true, init: 'zeros' }, rng) : null;
    this.gn = new GroupNorm(store.scope('gn'), groups, ch);
  }

  /** x: FPN level [B, h, w, C]; regFeat: regression-tower output [B, h, w, C] -> [B, h, w, C]. */
  forward(x: tf.Tensor4D, regFeat: tf.Tensor4D): tf.Tensor4D {
    let y: tf.Tensor4D;
    if (this.convOffset) {
      const om = this.convOffset.forward(regFeat); // [B, h, w, 27]
      const [offset, maskLogits] = tf.split(om, [2 * TAPS, TAPS], 3) as [tf.Tensor4D, tf.Tensor4D];
      y = deformConv2d(x, offset, tf.sigmoid(maskLogits), this.conv.weight as tf.Tensor4D, null, { stride: 1, padding: 1, dilation: 1, offsetGroups: 1 });
    } else {
      y = this.conv.forward(x);
    }
    return tf.relu(this.gn.forward(y));
  }

  /** MACs: the conv, the offset conv and 4 bilinear taps per sampled value. */
  macs(h: number, w: number, ch: number): number {
    const sampling = this.convOffset ? h * w * TAPS * ch * 4 + this.convOffset.macs(h, w) : 0;
    return this.conv.macs(h, w) + sampling;
  }
}

/**
 * Parameters (mmdet ATSSHead names where they exist): reg_convs.{i}.{conv,gn}, cls_convs.0.{conv,conv_offset,gn},
 * cls_convs.{1..}.{conv,gn}, atss_reg, atss_centerness, region_embed, scales.{l}.scale, logit_scale, logit_bias.
 */
export class AtssHead {
  private readonly regConvs: ConvGnRelu[] = [];
  private readonly clsFirst: DeformableClsConv;
  private readonly clsConvs: ConvGnRelu[] = [];
  private readonly atssReg: Conv2d;
  private readonly atssCenterness: Conv2d;
  private readonly regionEmbed: Conv2d;
  private readonly scales: tf.Variable[];
  readonly logitScale: tf.Variable;
  readonly logitBias: tf.Variable;

  constructor(store: ParamStore, readonly cfg: AtssHeadConfig, rng: InitRng) {
    const c = cfg.inChannels;
    const g = cfg.gnGroups;
    const init = cfg.towerInit ?? 'normal';
    const conv = { inChannels: c, outChannels: c, kernel: 3, groups: g, init, std: 0.01 };
    for (let i = 0; i < cfg.towerConvs; i++) this.regConvs.push(new ConvGnRelu(store.scope(`reg_convs.${i}`), conv, rng));
    this.clsFirst = new DeformableClsConv(store.scope('cls_convs.0'), c, g, cfg.useDcn, rng, init);
    for (let i = 1; i < cfg.towerConvs; i++) this.clsConvs.push(new ConvGnRelu(store.scope(`cls_convs.${i}`), conv, rng));
    const pred = (name: string, out: number): Conv2d => new Conv2d(store.scope(name), { inChannels: c, outChannels: out, kernel: 3, bias: true, init: 'normal', std: 0.01 }, rng);
    this.atssReg = pred('atss_reg', 4);
    this.atssCenterness = pred('atss_centerness', 1);
    this.regionEmbed = pred('region_embed', cfg.embedDim);
    this.scales = cfg.strides.map((_, l) => store.add(`scales.${l}.scale`, fillInit([], 1)));
    this.logitScale = store.add('logit_scale', fillInit([], Math.log(cfg.logitScaleInit)));
    this.logitBias = store.add('logit_bias', fillInit([], biasForPrior(cfg.priorProb)));
  }

  /** One FPN level x [B, h, w, C] (level index l) -> flattened outputs. */
  forwardLevel(x: tf.Tensor4D, l: number): HeadLevelOutput {
    const [b, h, w] = x.shape;
    let reg = x;
    for (const layer of this.regConvs) reg = layer.forward(reg);
    let cls = this.clsFirst.forward(x, reg);
    for (const layer of this.clsConvs) cls = layer.forward(cls);
    const emb = tf.reshape(this.regionEmbed.forward(cls), [b, h * w, this.cfg.embedDim]) as tf.Tensor3D;
    const raw = tf.mul(this.atssReg.forward(reg), this.scales[l]!); // [B, h, w, 4]
    const act = this.cfg.regActivation === 'exp' ? tf.exp(tf.minimum(raw, MAX_EXP)) : tf.relu(raw);
    return {
      embeddings: l2Normalize(emb),
      ltrb: tf.reshape(tf.mul(act, this.cfg.strides[l]!), [b, h * w, 4]) as tf.Tensor3D,
      centerness: tf.reshape(this.atssCenterness.forward(reg), [b, h * w]) as tf.Tensor2D,
    };
  }

  /** All levels, concatenated level-major (the anchor order of makeAnchors). */
  forward(levels: tf.Tensor4D[]): HeadLevelOutput {
    const outs = levels.map((x, l) => tf.tidy(() => this.forwardLevel(x, l))); // per-level tidy: lower peak memory
    return {
      embeddings: tf.concat(outs.map((o) => o.embeddings), 1),
      ltrb: tf.concat(outs.map((o) => o.ltrb), 1),
      centerness: tf.concat(outs.map((o) => o.centerness), 1),
    };
  }

  /**
   * Region–concept logits = min(exp(logit_scale), 100) · cos(region, concept) + logit_bias.
   * regionEmb [B, K, D] (already unit length), conceptEmb [M, D] (normalised here) -> [B, K, M].
   */
  similarityLogits(regionEmb: tf.Tensor3D, conceptEmb: tf.Tensor2D): tf.Tensor3D {
    return similarityLogits(regionEmb, conceptEmb, this.logitScale, this.logitBias);
  }

  /** The learned word-region similarity scale min(exp(logit_scale), 100), a scalar (shared with image-text scores). */
  similarityScale(): tf.Scalar {
    return similarityScale(this.logitScale);
  }

  /** Multiply-accumulates per image for levels of the given sizes. */
  macs(sizes: [number, number][]): number {
    const c = this.cfg.inChannels;
    let total = 0;
    for (const [h, w] of sizes) {
      for (const layer of [...this.regConvs, ...this.clsConvs]) total += layer.macs(h, w);
      total += this.clsFirst.macs(h, w, c) + this.atssReg.macs(h, w) + this.atssCenterness.macs(h, w) + this.regionEmbed.macs(h, w);
    }
    return total;
  }
}

/** min(exp(logitScale), 100) for the learned log-space scale (a scalar tensor or its value). */
export function similarityScale(logitScale: tf.Tensor | number): tf.Scalar {
  return tf.minimum(tf.exp(logitScale), MAX_LOGIT_SCALE) as tf.Scalar;
}

/**
 * The head's scoring as a free function (the ONNX engine runs it on onnxruntime's outputs):
 * regionEmb [B, K, D] (unit length), conceptEmb [M, D] (normalised here) -> logits [B, K, M].
 */
export function similarityLogits(regionEmb: tf.Tensor3D, conceptEmb: tf.Tensor2D, logitScale: tf.Tensor | number, logitBias: tf.Tensor | number): tf.Tensor3D {
  const [b, k, d] = regionEmb.shape;
  const concepts = l2Normalize(conceptEmb);
  const cos = tf.matMul(tf.reshape(regionEmb, [b * k, d]) as tf.Tensor2D, concepts, false, true); // [B·K, M]
  return tf.reshape(tf.add(tf.mul(cos, similarityScale(logitScale)), logitBias), [b, k, conceptEmb.shape[0]]) as tf.Tensor3D;
}

/** x / max(‖x‖₂, 1e-12) along the last axis (torch F.normalize). */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
  return tf.div(x, tf.maximum(norm, 1e-12)) as T;
}
