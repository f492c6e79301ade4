// The Swin v1 backbone (src/model/backbone/swin*.ts) as ONNX nodes, NHWC inside, dynamic H and W: window padding,
// the shift (skipped on an axis one window covers, as effectiveShift), the shifted-window mask and patch-merge
// padding are all computed from the runtime shape. Returns C3..C5 as NCHW for the FPN.
import type { ModelConfig } from '../config/model.ts';
import { relativePositionIndex } from '../model/backbone/swinAttention.ts';
import type { OnnxGraph } from './onnxGraph.ts';
import { storeConv, scalarF, type OnnxParams } from './onnxLayers.ts';

type SwinCfg = Extract<ModelConfig['backbone'], { type: 'swin' }>;
const BIG = 2 ** 62; // "to the end" in Slice

const ln = (P: OnnxParams, x: string, prefix: string): string =>
  P.g.node('LayerNormalization', [x, P.plain(`${prefix}.weight`), P.plain(`${prefix}.bias`)], { axis: -1, epsilon: { f: 1e-5 } }, 'ln');

/** x · Wᵀ (+ b) for a torch [out, in] Linear under `prefix`. */
function linear(P: OnnxParams, x: string, prefix: string): string {
  const y = P.g.node('MatMul', [x, P.linearT(`${prefix}.weight`)]);
  return P.has(`${prefix}.bias`) ? P.g.node('Add', [y, P.plain(`${prefix}.bias`)]) : y;
}

function gelu(g: OnnxGraph, x: string): string {
  const erf = g.node('Erf', [g.node('Mul', [x, scalarF(g, Math.SQRT1_2)])]);
  return g.node('Mul', [g.node('Mul', [x, scalarF(g, 0.5)]), g.node('Add', [erf, scalarF(g, 1)])]);
}

/** Runtime dims of an NHWC map as int64 [1] tensors. */
function dims(g: OnnxGraph, x: string): { b: string; h: string; w: string } {
  const shape = g.node('Shape', [x]);
  const d = (i: number): string => g.node('Slice', [shape, g.constI64('s', [i]), g.constI64('e', [i + 1])]);
  return { b: d(0), h: d(1), w: d(2) };
}

const i64 = (g: OnnxGraph, v: number): string => g.constI64('k', [v]);
const cat = (g: OnnxGraph, parts: string[]): string => g.node('Concat', parts, { axis: 0 });

/** Zero-pads NHWC x at the bottom/right by [1]-shaped int64 amounts. */
function padBottomRight(g: OnnxGraph, x: string, ph: string, pw: string): string {
  const z = i64(g, 0);
  return g.node('Pad', [x, cat(g, [z, z, z, z, z, ph, pw, z])]);
}

/** torch.roll by -s (left) along axis 1|2 of a map of size n: [x[s:], x[:s]]; s may be 0. */
function rollLeft(g: OnnxGraph, x: string, s: string, axis: number): string {
  const ax = i64(g, axis);
  return g.node('Concat', [g.node('Slice', [x, s, i64(g, BIG), ax]), g.node('Slice', [x, i64(g, 0), s, ax])], { axis });
}

/** Region labels [n] along one padded axis: 0 / 1 / 2 for [0, n-win), [n-win, n-s), [n-s, n); all 0 when s = 0. */
function regions(g: OnnxGraph, n: string, win: number, s: string): string {
  const pos = g.node('Range', [g.constI64('zero', [0], []), g.node('Squeeze', [n, i64(g, 0)]), g.constI64('one', [1], [])]);
  const ge = (t: string): string => g.node('Cast', [g.node('GreaterOrEqual', [pos, t])], { to: 7 });
  const r = g.node('Add', [ge(g.node('Sub', [n, i64(g, win)])), ge(g.node('Sub', [n, s]))]);
  return g.node('Mul', [r, g.node('Cast', [g.node('Greater', [s, i64(g, 0)])], { to: 7 })]);
}

/** The shifted-window mask [1, nW, 1, N, N] (0 or -100), as shiftedWindowMask. */
function windowMask(g: OnnxGraph, pH: string, pW: string, nWh: string, nWw: string, win: number, sh: string, sw: string): string {
  const ry = g.node('Unsqueeze', [regions(g, pH, win, sh), i64(g, 1)]); // [pH, 1]
  const rx = g.node('Unsqueeze', [regions(g, pW, win, sw), i64(g, 0)]); // [1, pW]
  const labels = g.node('Add', [g.node('Mul', [ry, g.constI64('three', [3], [])]), rx]); // [pH, pW]
  const n = win * win;
  const part = g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [labels, cat(g, [nWh, i64(g, win), nWw, i64(g, win)])])], { perm: [0, 2, 1, 3] }), g.constI64('shape', [-1, n])]); // [nW, N]
  const same = g.node('Equal', [g.node('Unsqueeze', [part, i64(g, 2)]), g.node('Unsqueeze', [part, i64(g, 1)])]); // [nW, N, N]
  const mask = g.node('Where', [same, scalarF(g, 0), scalarF(g, -100)]);
  return g.node('Unsqueeze', [mask, g.constI64('ax', [0, 2])]);
}

/** ShiftedWindowAttention.forward on xn [B, H, W, C] (normed) under `pre` (= features.S.I.attn). */
function windowAttention(P: OnnxParams, xn: string, pre: string, c: number, heads: number, win: number, shift: number): string {
  const g = P.g;
  const n = win * win;
  const hd = c / heads;
  const { b, h, w } = dims(g, xn);
  const padOf = (d: string): string => g.node('Mod', [g.node('Sub', [i64(g, win), g.node('Mod', [d, i64(g, win)])]), i64(g, win)]);
  const [padH, padW] = [padOf(h), padOf(w)];
  let y = padBottomRight(g, xn, padH, padW); // [B, pH, pW, C]
  const [pH, pW] = [g.node('Add', [h, padH]), g.node('Add', [w, padW])];
  const eff = (p: string): string => g.node('Where', [g.node('Greater', [p, i64(g, win)]), i64(g, shift), i64(g, 0)]); // effectiveShift
  const [sh, sw] = shift > 0 ? [eff(pH), eff(pW)] : ['', ''];
  if (shift > 0) y = rollLeft(g, rollLeft(g, y, sh, 1), sw, 2);
  const [nWh, nWw] = [g.node('Div', [pH, i64(g, win)]), g.node('Div', [pW, i64(g, win)])];
  const wins = g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [y, cat(g, [b, nWh, i64(g, win), nWw, i64(g, win), i64(g, c)])])], { perm: [0, 1, 3, 2, 4, 5] }),
    g.constI64('shape', [-1, n, c])]); // [B·nW, N, C]
  const qkv = g.node('Transpose', [g.node('Reshape', [linear(P, wins, `${pre}.qkv`), g.constI64('shape', [0, 0, 3, heads, hd])])], { perm: [2, 0, 3, 1, 4] }); // [3, B·nW, heads, N, hd]
  const pick = (i: number): string => g.node('Gather', [qkv, g.constI64('i', [i], [])], { axis: 0 });
  const kT = g.node('Transpose', [pick(1)], { perm: [0, 1, 3, 2] });
  // relative position bias [heads, N, N], gathered here from the table (the tfjs one-hot matmul gives the same values)
  const table = P.value(`${pre}.relative_position_bias_table`);
  const idx = relativePositionIndex(win, win);
  const bias = new Float32Array(heads * n * n);
  for (let hh = 0; hh < heads; hh++) for (let t = 0; t < n * n; t++) bias[hh * n * n + t] = table.data[idx[t]! * heads + hh]!;
  let attn = g.node('Add', [g.node('MatMul', [g.node('Mul', [pick(0), scalarF(g, hd ** -0.5)]), kT]), g.constF('rel_bias', bias, [heads, n, n])]);
  if (shift > 0) {
    const nW = g.node('Mul', [nWh, nWw]);
    const per = g.node('Reshape', [attn, cat(g, [i64(g, -1), nW, g.constI64('hnn', [heads, n, n])])]); // [B, nW, heads, N, N]
    attn = g.node('Reshape', [g.node('Add', [per, windowMask(g, pH, pW, nWh, nWw, win, sh, sw)]), g.constI64('shape', [-1, heads, n, n])]);
  }
  const ctx = g.node('MatMul', [g.node('Softmax', [attn], { axis: -1 }), pick(2)]); // [B·nW, heads, N, hd]
  const merged = g.node('Reshape', [g.node('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.constI64('shape', [-1, n, c])]);
  const proj = linear(P, merged, `${pre}.proj`);
  let out = g.node('Reshape', [g.node('Transpose', [g.node('Reshape', [proj, cat(g, [b, nWh, nWw, i64(g, win), i64(g, win), i64(g, c)])])], { perm: [0, 1, 3, 2, 4, 5] }),
    cat(g, [b, pH, pW, i64(g, c)])]);
  if (shift > 0) out = rollLeft(g, rollLeft(g, out, g.node('Sub', [pH, sh]), 1), g.node('Sub', [pW, sw]), 2); // roll back by +shift
  return g.node('Slice', [out, cat(g, [i64(g, 0), i64(g, 0)]), cat(g, [h, w]), g.constI64('ax', [1, 2])]); // crop the padding
}

/** PatchMerging: pad to even, [x(0,0), x(1,0), x(0,1), x(1,1)], LayerNorm(4C), Linear(4C -> 2C). */
function patchMerge(P: OnnxParams, x: string, pre: string, c: number): string {
  const g = P.g;
  const { b, h, w } = dims(g, x);
  const two = i64(g, 2);
  const [ph, pw] = [g.node('Mod', [h, two]), g.node('Mod', [w, two])];
  const y = padBottomRight(g, x, ph, pw);
  const [h2, w2] = [g.node('Div', [g.node('Add', [h, ph]), two]), g.node('Div', [g.node('Add', [w, pw]), two])];
  const r = g.node('Reshape', [y, cat(g, [b, h2, two, w2, two, i64(g, c)])]);
  const catd = g.node('Reshape', [g.node('Transpose', [r], { perm: [0, 1, 3, 4, 2, 5] }), cat(g, [b, h2, w2, i64(g, 4 * c)])]);
  return linear(P, ln(P, catd, `${pre}.norm`), `${pre}.reduction`);
}

/** images NCHW -> {C3, C4, C5} NCHW, as SwinTransformer.forward (eval: no stochastic depth). */
export function swinBackbone(P: OnnxParams, images: string, cfg: SwinCfg): { C3: string; C4: string; C5: string } {
  const g = P.g;
  const toNhwc = (t: string): string => g.node('Transpose', [t], { perm: [0, 2, 3, 1] });
  const toNchw = (t: string): string => g.node('Transpose', [t], { perm: [0, 3, 1, 2] });
  let x = ln(P, toNhwc(storeConv(P, images, 'backbone.features.0.0', { stride: cfg.patchSize, pad: 0 })), 'backbone.features.0.2');
  const outs: string[] = [];
  for (let s = 0; s < 4; s++) {
    const c = cfg.embedDim * 2 ** s;
    for (let i = 0; i < cfg.depths[s]!; i++) {
      const pre = `backbone.features.${2 * s + 1}.${i}`;
      const shift = i % 2 === 0 ? 0 : Math.floor(cfg.window / 2);
      x = g.node('Add', [x, windowAttention(P, ln(P, x, `${pre}.norm1`), `${pre}.attn`, c, cfg.heads[s]!, cfg.window, shift)]);
      x = g.node('Add', [x, linear(P, gelu(g, linear(P, ln(P, x, `${pre}.norm2`), `${pre}.mlp.0`)), `${pre}.mlp.3`)]);
    }
    outs.push(x);
    if (s < 3) x = patchMerge(P, x, `backbone.features.${2 * s + 2}`, c);
  }
  return {
    C3: toNchw(ln(P, outs[1]!, 'backbone.out_norms.1')),
    C4: toNchw(ln(P, outs[2]!, 'backbone.out_norms.2')),
    C5: toNchw(ln(P, outs[3]!, 'backbone.norm')),
  };
}
