// The CLIP text transformer's math (open_clip TextTransformer, pre-LN, causal): token + position embedding,
// residual attention blocks, ln_final, pooling at the first EOT (argmax of ids), projection. Pure functions of
// the parameters, so they run under tf.grad / tf.variableGrads. Call inside tf.tidy.
import * as tf from '@tensorflow/tfjs';
import { CLIP_EOT, layerNormEpsOf, type TextEncoderConfig } from './config.ts';
import { blockPrefix } from './textParams.ts';
import { layerNorm, linear as linearW, mlpQuickGelu, quickGelu } from '../../ops/fusedLayers.ts';

/** x [R, in] · w[out, in]ᵀ + b (hand-written gradient: saves x and w only). */
const linear = (x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor2D => linearW(x, w as tf.Tensor2D, b as tf.Tensor1D | undefined);

export type ParamGetter = (name: string) => tf.Tensor;

/** Intermediate tensors of one forward pass (what the golden fixtures store). */
export interface TextTrace {
  embeddings: tf.Tensor3D; // [N, L, W] token + positional
  blocks: tf.Tensor3D[]; // [N, L, W] residual stream after each block
  hidden: tf.Tensor3D; // [N, L, W] ln_final over every position
  features: tf.Tensor2D; // [N, D] projected EOT rows, not normalised
}

/** Additive causal mask [L, L]: 0 on and below the diagonal, -1e9 above. Built from JS values (no comparisons on the tape). */
function causalMask(L: number): tf.Tensor2D {
  const m = new Float32Array(L * L);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < L; j++) m[i * L + j] = -1e9;
  return tf.tensor2d(m, [L, L]);
}

function activation(x: tf.Tensor2D, kind: TextEncoderConfig['activation']): tf.Tensor2D {
  if (kind === 'quickgelu') return quickGelu(x);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)); // exact erf GELU
}

/** Multi-head causal self-attention on h [N, L, W] (in_proj rows: q, k, v). */
function selfAttention(h: tf.Tensor3D, p: ParamGetter, prefix: string, heads: number, mask: tf.Tensor2D): tf.Tensor3D {
  const [N, L, W] = h.shape;
  const hd = W / heads;
  const qkv = linear(tf.reshape(h, [N * L, W]) as tf.Tensor2D, p(`${prefix}in_proj_weight`), p(`${prefix}in_proj_bias`)); // [N*L, 3W]
  const split = (t: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(t, [N, L, heads, hd]), [0, 2, 1, 3]); // [N, H, L, hd]
  const [q, k, v] = tf.split(qkv, 3, 1).map(split) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  const scores = tf.add(tf.matMul(tf.mul(q, 1 / Math.sqrt(hd)), tf.transpose(k, [0, 1, 3, 2])), mask); // [N, H, L, L]
  const ctx = tf.matMul(tf.softmax(scores), v); // [N, H, L, hd]
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [N * L, W]) as tf.Tensor2D;
  return tf.reshape(linear(merged, p(`${prefix}out_proj.weight`), p(`${prefix}out_proj.bias`)), [N, L, W]);
}

function residualBlock(x: tf.Tensor3D, p: ParamGetter, i: number, cfg: TextEncoderConfig, mask: tf.Tensor2D): tf.Tensor3D {
  const pre = blockPrefix(i);
  const eps = layerNormEpsOf(cfg);
  const [N, L, W] = x.shape;
  x = tf.add(x, selfAttention(layerNorm(x, p(`${pre}ln_1.weight`), p(`${pre}ln_1.bias`), eps), p, `${pre}attn.`, cfg.heads, mask));
  const h = tf.reshape(layerNorm(x, p(`${pre}ln_2.weight`), p(`${pre}ln_2.bias`), eps), [N * L, W]) as tf.Tensor2D;
  const [wFc, bFc, wProj, bProj] = ['c_fc.weight', 'c_fc.bias', 'c_proj.weight', 'c_proj.bias'].map((n) => p(`${pre}mlp.${n}`));
  const mlp = cfg.activation === 'quickgelu'
    ? mlpQuickGelu(h, wFc as tf.Tensor2D, bFc as tf.Tensor1D, wProj as tf.Tensor2D, bProj as tf.Tensor1D) // activation recomputed in backward
    : linear(activation(linear(h, wFc!, bFc), cfg.activation), wProj!, bProj);
  return tf.add(x, tf.reshape(mlp, [N, L, W]));
}

/**
 * table[ids] -> [N, L, W], with a scatter-add gradient: tf.gather's own gradient needs UnsortedSegmentSum, which
 * wasm lacks and cpu runs as one masked pass per vocabulary row (minutes for 49408 rows).
 */
function embeddingLookup(table: tf.Tensor, ids: tf.Tensor2D): tf.Tensor3D {
  const [N, L] = ids.shape;
  const W = table.shape[1]!;
  // ids goes in as an input and is saved: a tensor captured by the closure would be freed when a taped
  // forward (tf.variableGrads) ends, before the backward pass reads it.
  const lookup = tf.customGrad((t, i, save) => {
    (save as tf.GradSaveFunc)([i as tf.Tensor]);
    return {
      value: tf.gather(t as tf.Tensor, i as tf.Tensor) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.scatterND(tf.reshape(saved[0]!, [N * L, 1]), tf.reshape(dy, [N * L, W]), (t as tf.Tensor).shape), // sums repeats
        tf.zerosLike(saved[0]!),
      ],
    };
  });
  return lookup(table, ids) as tf.Tensor3D;
}

/** [N, 1, L] one-hot of the first EOT row: EOT (49407) is the largest id, and argMax returns the first maximum. */
function eotPoolWeights(ids: tf.Tensor2D): tf.Tensor3D {
  const [N, L] = ids.shape;
  // (oneHot's dtype argument is not honoured by the wasm kernel in tfjs 4.22: cast instead.)
  return (L > 1 ? tf.reshape(tf.cast(tf.oneHot(tf.argMax(ids, 1), L), 'float32'), [N, 1, L]) : tf.ones([N, 1, 1])) as tf.Tensor3D;
}

/**
 * [N, 1, L] uniform weights over the rows after SOT up to the first EOT, EOT included ('mean') or not ('words':
 * only the word rows, so that concepts share no pooled row; EOT alone for an empty concept). Constants: read on the CPU.
 */
function meanPoolWeights(ids: tf.Tensor2D, withEot: boolean): tf.Tensor3D {
  const [N, L] = ids.shape;
  const v = ids.dataSync();
  const w = new Float32Array(N * L);
  for (let n = 0; n < N; n++) {
    let end = L - 1;
    for (let p = 0; p < L; p++) if (v[n * L + p] === CLIP_EOT) { end = p; break; }
    const start = Math.min(1, end);
    const last = withEot || end - 1 < start ? end : end - 1;
    for (let p = start; p <= last; p++) w[n * L + p] = 1 / (last - start + 1);
  }
  return tf.tensor3d(w, [N, 1, L]);
}

/** Runs the tower on ids [N, L] int32 (L <= contextLength). Returns every intermediate; call inside tf.tidy. */
export function textTransformer(p: ParamGetter, cfg: TextEncoderConfig, ids: tf.Tensor2D): TextTrace {
  if (ids.rank !== 2 || ids.dtype !== 'int32') throw new Error(`text encoder: ids must be int32 [N, L], got ${ids.dtype} [${ids.shape}]`);
  const [N, L] = ids.shape;
  if (L > cfg.contextLength) throw new Error(`text encoder: ${L} tokens per row but contextLength is ${cfg.contextLength}`);
  const pos = tf.slice(p('positional_embedding'), [0, 0], [L, cfg.width]);
  const embeddings = tf.add(embeddingLookup(p('token_embedding.weight'), ids), pos) as tf.Tensor3D; // [N, L, W]
  const mask = causalMask(L);
  const blocks: tf.Tensor3D[] = [];
  let x = embeddings;
  // One tidy per block: intermediates go at once (what the tape saves for backward it keeps alive itself).
  for (let i = 0; i < cfg.layers; i++) blocks.push((x = tf.tidy(() => residualBlock(x, p, i, cfg, mask))));
  const hidden = layerNorm(x, p('ln_final.weight'), p('ln_final.bias'), layerNormEpsOf(cfg));
  const pick = cfg.pooling === 'mean' || cfg.pooling === 'words' ? meanPoolWeights(ids, cfg.pooling === 'mean') : eotPoolWeights(ids); // [N, 1, L]
  const pooled = tf.reshape(tf.matMul(pick, hidden), [N, cfg.width]) as tf.Tensor2D; // [N, W]
  const features = tf.matMul(pooled, p('text_projection') as tf.Tensor2D) as tf.Tensor2D; // [N, D]
  return { embeddings, blocks, hidden, features };
}
