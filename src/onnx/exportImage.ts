// image.onnx: image [B, 3, H, W] (normalised, NCHW) -> boxes [B, K, 4] (decoded, input-pixel xyxy), centerness
// [B, K] (logits) and region_embeddings [B, K, D] (unit length): the same values as ImageEncoder.encodeImage,
// anchors computed inside the graph from each level's size, so B, H and W are dynamic.
import type { DetClip } from '../model/buildDetClip.ts';
import type { ModelConfig } from '../config/model.ts';
import { OnnxGraph } from './onnxGraph.ts';
import { swinBackbone } from './exportSwin.ts';
import { convBnFolded, convGnRelu, groupNorm, l2NormalizeLast, OnnxParams, relu, scalarF, storeConv } from './onnxLayers.ts';
import { IMAGE_INPUT, IMAGE_OUTPUTS } from './graphIo.ts';

export { IMAGE_INPUT, IMAGE_OUTPUTS }; // defined in graphIo.ts (shared with the engines)

const TAPS = 9; // 3×3 DCN
const MAX_EXP = 10; // as atssHead.ts

type Feats = { C3: string; C4: string; C5: string };

function tinyBackbone(P: OnnxParams, x: string, cfg: Extract<ModelConfig['backbone'], { type: 'tiny' }>): Feats {
  const groups = (c: number): number => Math.min(cfg.gnGroups, c);
  const g = P.g;
  let y = convGnRelu(P, x, 'backbone.stem', groups(cfg.channels[0]), { stride: 2 });
  const outs: string[] = [];
  cfg.channels.slice(1).forEach((c, s) => {
    y = convGnRelu(P, y, `backbone.stages.${s}.down`, groups(c), { stride: 2 });
    for (let b = 0; b < cfg.blocks[s]!; b++) {
      const p = `backbone.stages.${s}.blocks.${b}`;
      const inner = convGnRelu(P, convGnRelu(P, y, `${p}.conv1`, groups(c)), `${p}.conv2`, groups(c), {}, false);
      y = relu(g, g.node('Add', [y, inner]));
    }
    outs.push(y);
  });
  return { C3: outs[1]!, C4: outs[2]!, C5: outs[3]! };
}

function resnetBackbone(P: OnnxParams, x: string, cfg: Extract<ModelConfig['backbone'], { type: 'resnet' }>): Feats {
  const g = P.g;
  let y = relu(g, convBnFolded(P, x, 'backbone.conv1', 'backbone.bn1', 2, 3));
  // tfjs pads with zeros then pools VALID; after ReLU (>= 0) that equals MaxPool's -inf padding.
  y = g.node('MaxPool', [y], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  const outs: string[] = [];
  for (let s = 0; s < 4; s++) {
    for (let b = 0; b < cfg.depths[s]!; b++) {
      const p = `backbone.layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      const convs = cfg.block === 'basic' ? [stride, 1] : [1, stride, 1];
      let z = y;
      convs.forEach((st, n) => {
        z = convBnFolded(P, z, `${p}.conv${n + 1}`, `${p}.bn${n + 1}`, st, null);
        if (n < convs.length - 1) z = relu(g, z);
      });
      const identity = P.has(`${p}.downsample.0.weight`) ? convBnFolded(P, y, `${p}.downsample.0`, `${p}.downsample.1`, stride, 0) : y;
      y = relu(g, g.node('Add', [z, identity]));
    }
    outs.push(y);
  }
  return { C3: outs[1]!, C4: outs[2]!, C5: outs[3]! };
}

/** mmdet FPN: laterals, nearest top-down to the lateral's size (floor(dst·in/out), as tf), outputs, extras. */
function fpn(P: OnnxParams, f: Feats, extraLevels: number): string[] {
  const g = P.g;
  const lat = [f.C3, f.C4, f.C5].map((x, i) => storeConv(P, x, `neck.lateral_convs.${i}.conv`));
  for (let i = lat.length - 2; i >= 0; i--) {
    const size = g.node('Shape', [lat[i]!]); // [B, C, h, w]: Resize to the lateral's full shape
    const up = g.node('Resize', [lat[i + 1]!, '', '', size], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    lat[i] = g.node('Add', [lat[i]!, up]);
  }
  const outs = lat.map((x, i) => storeConv(P, x, `neck.fpn_convs.${i}.conv`));
  for (let e = 0; e < extraLevels; e++) outs.push(storeConv(P, outs[outs.length - 1]!, `neck.fpn_convs.${3 + e}.conv`, { stride: 2, pad: 1 }));
  return outs;
}

/** [B, C, h, w] -> [B, h·w, C] (NHWC row-major, the anchor order). */
function flattenLevel(g: OnnxGraph, x: string, c: number): string {
  return g.node('Reshape', [g.node('Transpose', [x], { perm: [0, 2, 3, 1] }), g.constI64('shape', [0, -1, c])]);
}

/** Anchor points [h·w, 2] (x, y) = ((col + 0.5)·s, (row + 0.5)·s) of level map x [B, C, h, w] (makeAnchors). */
function levelPoints(g: OnnxGraph, x: string, stride: number): string {
  const shape = g.node('Shape', [x]);
  const dim = (i: number): string => g.node('Slice', [shape, g.constI64('s', [i]), g.constI64('e', [i + 1])]); // [1]
  const [h, w] = [dim(2), dim(3)];
  const coords = (n: string): string => {
    const r = g.node('Range', [g.constI64('zero', [0], []), g.node('Squeeze', [n, g.constI64('ax', [0])]), g.constI64('one', [1], [])]);
    return g.node('Mul', [g.node('Add', [g.node('Cast', [r], { to: 1 }), scalarF(g, 0.5)]), scalarF(g, stride)]);
  };
  const hw = g.node('Concat', [h, w], { axis: 0 });
  const xs = g.node('Expand', [g.node('Unsqueeze', [coords(w), g.constI64('ax', [0])]), hw]); // [h, w]
  const ys = g.node('Expand', [g.node('Unsqueeze', [coords(h), g.constI64('ax', [1])]), hw]);
  const last = g.constI64('ax', [2]);
  const pts = g.node('Concat', [g.node('Unsqueeze', [xs, last]), g.node('Unsqueeze', [ys, last])], { axis: 2 }); // [h, w, 2]
  return g.node('Reshape', [pts, g.constI64('shape', [-1, 2])]);
}

interface LevelOut { emb: string; ltrb: string; ctr: string; points: string }

/** The ATSS head on one level (shared weights), as AtssHead.forwardLevel. */
function headLevel(P: OnnxParams, x: string, l: number, cfg: ModelConfig['head'], stride: number): LevelOut {
  const g = P.g;
  let reg = x;
  for (let i = 0; i < cfg.towerConvs; i++) reg = convGnRelu(P, reg, `head.reg_convs.${i}`, cfg.gnGroups);
  let y: string;
  if (cfg.useDcn) {
    const om = storeConv(P, reg, 'head.cls_convs.0.conv_offset'); // [B, 27, h, w]: 18 offsets (dy, dx per tap), 9 mask logits
    const ch = (a: number, b: number): string => g.node('Slice', [om, g.constI64('s', [a]), g.constI64('e', [b]), g.constI64('ax', [1])]);
    const offset = ch(0, 2 * TAPS);
    const mask = g.node('Sigmoid', [ch(2 * TAPS, 3 * TAPS)]);
    // ONNX DeformConv's offset layout is torchvision's: per kernel position (dy, dx), the same as deformConv2d.
    y = g.node('DeformConv', [x, P.convWeight('head.cls_convs.0.conv.weight'), offset, '', mask],
      { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, offset_group: 1 }, 'dcn');
  } else {
    y = storeConv(P, x, 'head.cls_convs.0.conv');
  }
  let cls = relu(g, groupNorm(P, y, 'head.cls_convs.0.gn', cfg.gnGroups));
  for (let i = 1; i < cfg.towerConvs; i++) cls = convGnRelu(P, cls, `head.cls_convs.${i}`, cfg.gnGroups);
  const emb = flattenLevel(g, storeConv(P, cls, 'head.region_embed'), cfg.embedDim);
  const raw = g.node('Mul', [storeConv(P, reg, 'head.atss_reg'), P.plain(`head.scales.${l}.scale`)]);
  const act = cfg.regActivation === 'exp' ? g.node('Exp', [g.node('Min', [raw, scalarF(g, MAX_EXP)])]) : relu(g, raw);
  const ltrb = flattenLevel(g, g.node('Mul', [act, scalarF(g, stride)]), 4);
  const ctr = g.node('Reshape', [storeConv(P, reg, 'head.atss_centerness'), g.constI64('shape', [0, -1])]);
  return { emb, ltrb, ctr, points: levelPoints(g, x, stride) };
}

/** decodeLtrb: (px - l, py - t, px + r, py + b) over points [K, 2] and ltrb [B, K, 4]. */
function decode(g: OnnxGraph, points: string, ltrb: string): string {
  const part = (a: number, b: number): string => g.node('Slice', [ltrb, g.constI64('s', [a]), g.constI64('e', [b]), g.constI64('ax', [2])]);
  return g.node('Concat', [g.node('Sub', [points, part(0, 2)]), g.node('Add', [points, part(2, 4)])], { axis: 2 });
}

/** FPN strides of a config (as Fpn.strides). */
export const levelStrides = (cfg: ModelConfig): number[] => [8, 16, 32, ...Array.from({ length: cfg.fpn.extraLevels }, (_, e) => 64 * 2 ** e)];

/** Builds image.onnx's graph for a loaded model. */
export function buildImageGraph(model: DetClip): OnnxGraph {
  const cfg = model.cfg;
  const g = new OnnxGraph('detclip_image');
  const P = new OnnxParams(g, model.store);
  const x = g.input(IMAGE_INPUT, 'float32', ['B', 3, 'H', 'W']);
  const bb = cfg.backbone;
  let feats: Feats;
  if (bb.type === 'tiny') feats = tinyBackbone(P, x, bb);
  else if (bb.type === 'resnet') feats = resnetBackbone(P, x, bb);
  else feats = swinBackbone(P, x, bb);
  const strides = levelStrides(cfg);
  const levels = fpn(P, feats, cfg.fpn.extraLevels);
  const outs = levels.map((p, l) => headLevel(P, p, l, cfg.head, strides[l]!));
  const cat = (key: keyof LevelOut, axis: number): string => (outs.length === 1 ? outs[0]![key] : g.node('Concat', outs.map((o) => o[key]), { axis }));
  const points = cat('points', 0); // [K, 2]
  g.output(decode(g, points, cat('ltrb', 1)), IMAGE_OUTPUTS.boxes, 'float32', ['B', 'K', 4]);
  g.output(cat('ctr', 1), IMAGE_OUTPUTS.centerness, 'float32', ['B', 'K']);
  g.output(l2NormalizeLast(g, cat('emb', 1), 3), IMAGE_OUTPUTS.embeddings, 'float32', ['B', 'K', cfg.head.embedDim]);
  return g;
}
