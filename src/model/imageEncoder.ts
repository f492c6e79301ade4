// The image side of DetCLIPv2: backbone -> FPN -> ATSS head with region embeddings, plus anchors and boxes.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './params.ts';
import type { InitRng } from './layers/init.ts';
import type { Backbone, FeatureLevel } from './backbone/types.ts';
import { ResNet } from './backbone/resnet.ts';
import { SwinTransformer } from './backbone/swin.ts';
import { TinyBackbone } from './backbone/tinyBackbone.ts';
import { Fpn } from './neck/fpn.ts';
import { AtssHead } from './head/atssHead.ts';
import { makeAnchors } from '../loss/atssAssign.ts';
import { decodeLtrb } from '../ops/boxCoder.ts';
import type { ModelConfig } from '../config/model.ts';

/** Anchors of one input size (CPU typed arrays), level-major then row-major = the head's output order. */
export interface Anchors {
  boxes: Float32Array; // [K*4] xyxy, side anchorScale·stride
  points: Float32Array; // [K*2] (x, y) centres
  strides: Float32Array; // [K]
  numPerLevel: number[];
}

export interface ImageEncoding {
  regionEmbeddings: tf.Tensor3D; // [B, K, D] unit length
  boxes: tf.Tensor3D; // [B, K, 4] xyxy input pixels = decodeLtrb(anchor points, ltrb)
  ltrb: tf.Tensor3D; // [B, K, 4] distances in input pixels
  centerness: tf.Tensor2D; // [B, K] logits
  anchors: Anchors;
  /** Stride of each FPN level, e.g. [8, 16, 32, 64, 128]. */
  levels: number[];
  /** [h, w] of each FPN level. */
  featureSizes: [number, number][];
}

export type ImageModelConfig = Pick<ModelConfig, 'backbone' | 'fpn' | 'head'>;

export function buildBackbone(store: ParamStore, cfg: ModelConfig['backbone'], rng: InitRng): Backbone {
  switch (cfg.type) {
    case 'tiny': return new TinyBackbone(store, cfg, rng);
    case 'resnet': return new ResNet(store, cfg, rng);
    case 'swin': return new SwinTransformer(store, cfg, rng);
  }
}

/** Parameters live under `backbone.`, `neck.` and `head.` of the given store. */
export class ImageEncoder {
  readonly backbone: Backbone;
  readonly neck: Fpn;
  readonly head: AtssHead;
  private readonly anchorCache = new Map<string, { anchors: Anchors; sizes: [number, number][] }>();

  constructor(store: ParamStore, readonly cfg: ImageModelConfig, rng: InitRng) {
    this.backbone = buildBackbone(store.scope('backbone'), cfg.backbone, rng);
    const ch = this.backbone.outChannels;
    this.neck = new Fpn(store.scope('neck'), { inChannels: [ch.C3, ch.C4, ch.C5], outChannels: cfg.fpn.outChannels, extraLevels: cfg.fpn.extraLevels }, rng);
    this.head = new AtssHead(store.scope('head'), { ...cfg.head, inChannels: cfg.fpn.outChannels, strides: this.neck.strides }, rng);
  }

  /** FPN level sizes for an h×w input (exact conv arithmetic, the same the forward pass produces). */
  featureSizes(h: number, w: number): [number, number][] {
    const s = this.backbone.macs(h, w).sizes;
    return this.neck.levelSizes((['C3', 'C4', 'C5'] as FeatureLevel[]).map((l) => s[l]));
  }

  /** Anchors for an h×w input, cached per size. */
  anchorsFor(h: number, w: number): { anchors: Anchors; sizes: [number, number][] } {
    const key = `${h}x${w}`;
    let hit = this.anchorCache.get(key);
    if (!hit) {
      const sizes = this.featureSizes(h, w);
      hit = { anchors: makeAnchors(sizes, this.neck.strides, this.cfg.head.anchorScale), sizes };
      this.anchorCache.set(key, hit);
    }
    return hit;
  }

  /** images [B, H, W, 3] (normalised pixels) -> region embeddings, boxes, centerness over all K anchors. */
  encodeImage(images: tf.Tensor4D, training: boolean): ImageEncoding {
    const [, h, w] = images.shape;
    const { anchors, sizes } = this.anchorsFor(h, w);
    const feats = this.backbone.forward(images, training);
    const levels = this.neck.forward(feats);
    levels.forEach((p, i) => {
      if (p.shape[1] !== sizes[i]![0] || p.shape[2] !== sizes[i]![1]) throw new Error(`level ${i}: map ${p.shape[1]}x${p.shape[2]} != expected ${sizes[i]}`);
    });
    const out = this.head.forward(levels);
    const k = anchors.strides.length;
    const boxes = decodeLtrb(tf.tensor2d(anchors.points, [k, 2]), out.ltrb) as tf.Tensor3D;
    return { regionEmbeddings: out.embeddings, boxes, ltrb: out.ltrb, centerness: out.centerness, anchors, levels: this.neck.strides, featureSizes: sizes };
  }

  /** Region–concept logits [B, K, M] (see AtssHead.similarityLogits). */
  similarityLogits(regionEmb: tf.Tensor3D, conceptEmb: tf.Tensor2D): tf.Tensor3D {
    return this.head.similarityLogits(regionEmb, conceptEmb);
  }

  /** Forward multiply-accumulates per image for an h×w input, by part. */
  macs(h: number, w: number): { backbone: number; neck: number; head: number } {
    const bb = this.backbone.macs(h, w);
    const c345: [number, number][] = [bb.sizes.C3, bb.sizes.C4, bb.sizes.C5];
    return { backbone: bb.macs, neck: this.neck.macs(c345), head: this.head.macs(this.neck.levelSizes(c345)) };
  }
}
