// Shifted-window multi-head self-attention (torchvision 0.14 `shifted_window_attention`), NHWC.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { normalInit, type InitRng } from '../layers/init.ts';
import { Linear } from '../layers/linear.ts';

/** torch.roll along one axis: out[i] = x[(i - shift) mod n]. */
export function roll(x: tf.Tensor4D, shift: number, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis];
  const s = ((shift % n) + n) % n;
  if (s === 0) return x;
  const begin = [0, 0, 0, 0];
  const size = [...x.shape];
  const tailBegin = [...begin];
  tailBegin[axis] = n - s;
  const tailSize = [...size];
  tailSize[axis] = s;
  const headSize = [...size];
  headSize[axis] = n - s;
  return tf.concat([tf.slice(x, tailBegin, tailSize), tf.slice(x, begin, headSize)], axis);
}

/** relative_position_index[i·N + j] for window tokens i=(yi,xi), j=(yj,xj): (yi-yj+wh-1)·(2ww-1) + (xi-xj+ww-1). */
export function relativePositionIndex(wh: number, ww: number): Int32Array {
  const n = wh * ww;
  const idx = new Int32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / ww) - Math.floor(j / ww);
      const dx = (i % ww) - (j % ww);
      idx[i * n + j] = (dy + wh - 1) * (2 * ww - 1) + (dx + ww - 1);
    }
  return idx;
}

/**
 * The shifted-window mask [nW, N, N] (0 or -100) for a padded pH×pW map rolled by (sh, sw): tokens whose
 * regions differ (rows [0,pH-wh), [pH-wh,pH-sh), [pH-sh,pH); likewise columns; an unshifted axis is one region)
 * must not attend to each other.
 */
export function shiftedWindowMask(pH: number, pW: number, wh: number, ww: number, sh: number, sw: number): Float32Array {
  const region = (v: number, size: number, win: number, shift: number): number =>
    shift === 0 ? 0 : v < size - win ? 0 : v < size - shift ? 1 : 2;
  const nWh = pH / wh;
  const nWw = pW / ww;
  const n = wh * ww;
  const out = new Float32Array(nWh * nWw * n * n);
  const labels = new Int32Array(n);
  for (let a = 0; a < nWh; a++)
    for (let b = 0; b < nWw; b++) {
      for (let t = 0; t < n; t++) {
        const y = a * wh + Math.floor(t / ww);
        const x = b * ww + (t % ww);
        labels[t] = 3 * region(y, pH, wh, sh) + region(x, pW, ww, sw);
      }
      const base = (a * nWw + b) * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[base + i * n + j] = labels[i] === labels[j] ? 0 : -100;
    }
  return out;
}

export interface WindowAttentionConfig { dim: number; heads: number; window: [number, number]; shift: [number, number] }

/** Parameters `qkv`, `proj` (Linear) and `relative_position_bias_table` [(2wh-1)(2ww-1), heads]. */
export class ShiftedWindowAttention {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly table: tf.Variable;
  /** One-hot [N·N, table rows]: gathers the bias with a matmul (tf.gather lacks a gradient on some backends). */
  private readonly indexOneHot: Float32Array;

  constructor(store: ParamStore, readonly cfg: WindowAttentionConfig, rng: InitRng) {
    const [wh, ww] = cfg.window;
    this.qkv = new Linear(store.scope('qkv'), { inFeatures: cfg.dim, outFeatures: 3 * cfg.dim, init: 'normal' }, rng);
    this.proj = new Linear(store.scope('proj'), { inFeatures: cfg.dim, outFeatures: cfg.dim, init: 'normal' }, rng);
    const rows = (2 * wh - 1) * (2 * ww - 1);
    this.table = store.add('relative_position_bias_table', normalInit(rng, [rows, cfg.heads], 0.02, true));
    const idx = relativePositionIndex(wh, ww);
    this.indexOneHot = new Float32Array(idx.length * rows);
    idx.forEach((r, i) => { this.indexOneHot[i * rows + r] = 1; });
  }

  /** The shift actually used for a padded pH×pW map: an axis the window already covers is not shifted. */
  effectiveShift(pH: number, pW: number): [number, number] {
    const [wh, ww] = this.cfg.window;
    return [wh >= pH ? 0 : this.cfg.shift[0], ww >= pW ? 0 : this.cfg.shift[1]];
  }

  /** x [B, H, W, C] (already normed) -> [B, H, W, C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const [wh, ww] = this.cfg.window;
    const heads = this.cfg.heads;
    const hd = c / heads;
    const n = wh * ww;
    const pH = Math.ceil(h / wh) * wh;
    const pW = Math.ceil(w / ww) * ww;
    let y: tf.Tensor4D = pH > h || pW > w ? tf.pad(x, [[0, 0], [0, pH - h], [0, pW - w], [0, 0]]) : x; // [B, pH, pW, C]
    const [sh, sw] = this.effectiveShift(pH, pW);
    const shifted = sh + sw > 0;
    if (shifted) y = roll(roll(y, -sh, 1), -sw, 2);
    const nWh = pH / wh;
    const nWw = pW / ww;
    const nW = nWh * nWw;
    // window partition: windows row-major over the grid, tokens row-major inside a window
    const win = tf.reshape(tf.transpose(tf.reshape(y, [b, nWh, wh, nWw, ww, c]), [0, 1, 3, 2, 4, 5]), [b * nW, n, c]);
    const qkv = tf.transpose(tf.reshape(this.qkv.forward(win), [b * nW, n, 3, heads, hd]), [2, 0, 3, 1, 4]); // [3, B·nW, heads, N, hd]
    const [q, k, v] = tf.unstack(qkv, 0) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    let attn: tf.Tensor = tf.matMul(tf.mul(q, hd ** -0.5), k, false, true); // [B·nW, heads, N, N]
    const rows = this.table.shape[0]!;
    const bias = tf.transpose(tf.reshape(tf.matMul(tf.tensor2d(this.indexOneHot, [n * n, rows]), this.table), [n, n, heads]), [2, 0, 1]);
    attn = tf.add(attn, bias);
    if (shifted) {
      const mask = tf.tensor(shiftedWindowMask(pH, pW, wh, ww, sh, sw), [1, nW, 1, n, n]);
      attn = tf.reshape(tf.add(tf.reshape(attn, [b, nW, heads, n, n]), mask), [b * nW, heads, n, n]);
    }
    attn = tf.softmax(attn, -1);
    const out = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [b * nW, n, c]); // [B·nW, N, C]
    const projected = this.proj.forward(out);
    let merged = tf.reshape(tf.transpose(tf.reshape(projected, [b, nWh, nWw, wh, ww, c]), [0, 1, 3, 2, 4, 5]), [b, pH, pW, c]) as tf.Tensor4D;
    if (shifted) merged = roll(roll(merged, sh, 1), sw, 2);
    return pH > h || pW > w ? tf.slice(merged, [0, 0, 0, 0], [b, h, w, c]) : merged;
  }

  /** Multiply-accumulates for an h×w map (qkv, q·kᵀ, attn·v, proj on the padded map). */
  macs(h: number, w: number): number {
    const [wh, ww] = this.cfg.window;
    const tokens = Math.ceil(h / wh) * wh * Math.ceil(w / ww) * ww;
    const n = wh * ww;
    return this.qkv.macs(tokens) + this.proj.macs(tokens) + 2 * tokens * n * this.cfg.dim;
  }
}
