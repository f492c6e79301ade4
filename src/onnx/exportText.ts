// text.onnx: token ids [C, L] int64 (L = contextLength, from tokenize()) -> concept embeddings [C, D], unit length
// (the text tower of textTransformer.ts followed by the l2Normalize that similarityLogits applies).
import type { DetClip } from '../model/buildDetClip.ts';
import { CLIP_EOT, layerNormEpsOf, type TextEncoderConfig } from '../model/text/config.ts';
import { blockPrefix } from '../model/text/textParams.ts';
import { OnnxGraph } from './onnxGraph.ts';
import { l2NormalizeLast, OnnxParams, scalarF } from './onnxLayers.ts';
import { TEXT_INPUT, TEXT_OUTPUT } from './graphIo.ts';

export { TEXT_INPUT, TEXT_OUTPUT }; // defined in graphIo.ts (shared with the engines)

/** x [.., in] · Wᵀ + b for a torch [out, in] linear `${prefix}weight` / `${prefix}bias` (or explicit names). */
function linear(P: OnnxParams, x: string, weight: string, bias: string): string {
  return P.g.node('Add', [P.g.node('MatMul', [x, P.linearT(weight)]), P.plain(bias)]);
}

function layerNorm(P: OnnxParams, x: string, prefix: string, eps: number): string {
  return P.g.node('LayerNormalization', [x, P.plain(`${prefix}.weight`), P.plain(`${prefix}.bias`)], { axis: -1, epsilon: { f: eps } }, 'ln');
}

function activation(P: OnnxParams, x: string, kind: TextEncoderConfig['activation']): string {
  const g = P.g;
  if (kind === 'quickgelu') return g.node('Mul', [x, g.node('Sigmoid', [g.node('Mul', [x, scalarF(g, 1.702)])])]);
  const erf = g.node('Erf', [g.node('Mul', [x, scalarF(g, Math.SQRT1_2)])]);
  return g.node('Mul', [g.node('Mul', [x, scalarF(g, 0.5)]), g.node('Add', [erf, scalarF(g, 1)])]); // exact erf GELU
}

/** Causal multi-head self-attention on h [C, L, W] (in_proj rows q, k, v), as selfAttention in textTransformer.ts. */
function selfAttention(P: OnnxParams, h: string, pre: string, cfg: TextEncoderConfig, mask: string): string {
  const g = P.g;
  const W = cfg.width;
  const hd = W / cfg.heads;
  const qkv = linear(P, h, `${pre}in_proj_weight`, `${pre}in_proj_bias`); // [C, L, 3W]
  const heads = (i: number): string => {
    const part = g.node('Slice', [qkv, g.constI64('s', [i * W]), g.constI64('e', [(i + 1) * W]), g.constI64('ax', [2])]);
    return g.node('Transpose', [g.node('Reshape', [part, g.constI64('shape', [0, 0, cfg.heads, hd])])], { perm: [0, 2, 1, 3] }); // [C, H, L, hd]
  };
  const [q, k, v] = [heads(0), heads(1), heads(2)];
  const kT = g.node('Transpose', [k], { perm: [0, 1, 3, 2] });
  const scores = g.node('Add', [g.node('MatMul', [g.node('Mul', [q, scalarF(g, 1 / Math.sqrt(hd))]), kT]), mask]); // [C, H, L, L]
  const ctx = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]); // [C, H, L, hd]
  const merged = g.node('Reshape', [g.node('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.constI64('shape', [0, 0, W])]);
  return linear(P, merged, `${pre}out_proj.weight`, `${pre}out_proj.bias`);
}

/**
 * Pooling weights [C, 1, L] for 'mean'/'words' (meanPoolWeights in textTransformer.ts): uniform over positions
 * start = min(1, end) .. last, end = the first EOT (L - 1 when none), last = end ('mean') or end - 1 ('words',
 * unless that is before start).
 */
function meanPoolWeights(g: OnnxGraph, ids: string, L: number, withEot: boolean): string {
  const isEot = g.node('Cast', [g.node('Equal', [ids, g.constI64('eot', [CLIP_EOT], [])])], { to: 6 }); // int32 [C, L]
  const axis1 = g.constI64('ax', [1]);
  const first = g.node('ArgMax', [isEot], { axis: 1, keepdims: 1, select_last_index: 0 }); // [C, 1] int64
  const any = g.node('Cast', [g.node('ReduceMax', [isEot, axis1], { keepdims: 1 })], { to: 9 }); // bool [C, 1]
  const end = g.node('Where', [any, first, g.constI64('last', [L - 1], [])]);
  const start = g.node('Min', [end, g.constI64('one', [1], [])]);
  let last = end;
  if (!withEot) {
    const prev = g.node('Sub', [end, g.constI64('one', [1], [])]);
    last = g.node('Where', [g.node('Less', [prev, start]), end, prev]);
  }
  const pos = g.constI64('pos', Array.from({ length: L }, (_, i) => i), [1, L]);
  const inside = g.node('And', [g.node('GreaterOrEqual', [pos, start]), g.node('LessOrEqual', [pos, last])]); // [C, L]
  const count = g.node('Cast', [g.node('Add', [g.node('Sub', [last, start]), g.constI64('one', [1], [])])], { to: 1 });
  const w = g.node('Div', [g.node('Cast', [inside], { to: 1 }), count]);
  return g.node('Unsqueeze', [w, axis1]); // [C, 1, L]
}

/** Builds text.onnx's graph for a loaded model. */
export function buildTextGraph(model: DetClip): OnnxGraph {
  const cfg = model.text.cfg;
  const g = new OnnxGraph('detclip_text');
  const P = new OnnxParams(g, model.store.scope('text'));
  const L = cfg.contextLength;
  const eps = layerNormEpsOf(cfg);
  const ids = g.input(TEXT_INPUT, 'int64', ['C', L]);
  let x = g.node('Add', [g.node('Gather', [P.plain('token_embedding.weight'), ids], { axis: 0 }), P.plain('positional_embedding')]); // [C, L, W]
  const mask = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) mask[i * L + j] = -1e9;
  const maskName = g.constF('causal_mask', mask, [L, L]);
  for (let i = 0; i < cfg.layers; i++) {
    const pre = blockPrefix(i);
    x = g.node('Add', [x, selfAttention(P, layerNorm(P, x, `${pre}ln_1`, eps), `${pre}attn.`, cfg, maskName)]);
    const h = layerNorm(P, x, `${pre}ln_2`, eps);
    const mlp = linear(P, activation(P, linear(P, h, `${pre}mlp.c_fc.weight`, `${pre}mlp.c_fc.bias`), cfg.activation), `${pre}mlp.c_proj.weight`, `${pre}mlp.c_proj.bias`);
    x = g.node('Add', [x, mlp]);
  }
  const hidden = layerNorm(P, x, 'ln_final', eps); // [C, L, W]
  let pooled: string;
  if (cfg.pooling === 'mean' || cfg.pooling === 'words') {
    const w = meanPoolWeights(g, ids, L, cfg.pooling === 'mean');
    pooled = g.node('Reshape', [g.node('MatMul', [w, hidden]), g.constI64('shape', [0, cfg.width])]);
  } else {
    // the first EOT row: EOT is the largest id and ArgMax returns the first maximum, as tf.argMax
    const at = g.node('ArgMax', [ids], { axis: 1, keepdims: 1, select_last_index: 0 }); // [C, 1]
    pooled = g.node('GatherND', [hidden, at], { batch_dims: 1 }); // [C, W]
  }
  const features = g.node('MatMul', [pooled, P.plain('text_projection')]); // [C, D]
  g.output(l2NormalizeLast(g, features, 2), TEXT_OUTPUT, 'float32', ['C', cfg.outputDim]);
  return g;
}
