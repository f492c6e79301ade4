// The layers of our tfjs model as ONNX nodes (NCHW), reading parameters by ParamStore name. Each parameter
// becomes one initializer, shared by every node that uses it (the ATSS head runs its weights on every level).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../model/params.ts';
import type { OnnxGraph } from './onnxGraph.ts';

/** Parameters of one store as initializers, each created once per (name, layout). */
export class OnnxParams {
  private readonly made = new Map<string, string>();

  constructor(readonly g: OnnxGraph, readonly store: ParamStore) {}

  /** The raw float32 values and shape of a parameter. */
  value(name: string): { data: Float32Array; shape: number[] } {
    const v = this.store.get(name);
    return { data: v.dataSync() as Float32Array, shape: [...v.shape] };
  }

  has(name: string): boolean { return this.store.has(name); }

  shape(name: string): number[] { return [...this.store.get(name).shape]; }

  /** The parameter as stored (shape unchanged). */
  plain(name: string): string {
    return this.cached(`plain:${name}`, () => { const v = this.value(name); return this.g.constF(safe(name), v.data, v.shape); });
  }

  /** A scalar parameter's value as a JS number. */
  scalar(name: string): number { return this.value(name).data[0]!; }

  /** A [out, in] torch linear weight transposed to [in, out] for MatMul. */
  linearT(name: string): string {
    return this.cached(`T:${name}`, () => {
      const { data, shape } = this.value(name);
      const [o, i] = shape as [number, number];
      const t = new Float32Array(o * i);
      for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) t[c * o + r] = data[r * i + c]!;
      return this.g.constF(safe(name) + '_T', t, [i, o]);
    });
  }

  /** An HWIO conv weight as OIHW. */
  convWeight(name: string): string {
    return this.cached(`OIHW:${name}`, () => { const v = this.value(name); return this.g.constF(safe(name), hwioToOihw(v.data, v.shape), oihwShape(v.shape)); });
  }

  /** A [C] vector reshaped to [C, 1, 1] (broadcast over NCHW maps). */
  channelVector(name: string): string {
    return this.cached(`C11:${name}`, () => { const v = this.value(name); return this.g.constF(safe(name), v.data, [v.shape[0]!, 1, 1]); });
  }

  /** A derived initializer under a key (built once). */
  cached(key: string, make: () => string): string {
    let hit = this.made.get(key);
    if (!hit) { hit = make(); this.made.set(key, hit); }
    return hit;
  }
}

const safe = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, '_');

export const oihwShape = (s: number[]): number[] => [s[3]!, s[2]!, s[0]!, s[1]!];

/** [kh, kw, ci, co] (tfjs) -> [co, ci, kh, kw] (ONNX). */
export function hwioToOihw(data: Float32Array, shape: number[]): Float32Array {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) {
    const src = ((y * kw + x) * ci + i) * co;
    for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = data[src + o]!;
  }
  return out;
}

export interface ConvSpec { stride?: number; pad: number }

/** Conv over x [B, Ci, H, W] with initializer names (OIHW weight, optional [Co] bias). */
export function conv(g: OnnxGraph, x: string, weight: string, bias: string | null, kernel: number, spec: ConvSpec): string {
  const s = spec.stride ?? 1;
  const p = spec.pad;
  return g.node('Conv', bias ? [x, weight, bias] : [x, weight], { kernel_shape: [kernel, kernel], strides: [s, s], pads: [p, p, p, p], dilations: [1, 1], group: 1 }, 'conv');
}

/** A Conv2d of the store by prefix (`…conv` holding weight[, bias]); torch padding = kernel // 2 unless given. */
export function storeConv(P: OnnxParams, x: string, prefix: string, spec: Partial<ConvSpec> = {}): string {
  const k = P.shape(`${prefix}.weight`)[0]!;
  const bias = P.has(`${prefix}.bias`) ? P.plain(`${prefix}.bias`) : null;
  return conv(P.g, x, P.convWeight(`${prefix}.weight`), bias, k, { stride: spec.stride ?? 1, pad: spec.pad ?? Math.floor(k / 2) });
}

/** torch GroupNorm (biased variance, eps) over x [B, C, H, W], affine `${prefix}.weight/bias` [C]. */
export function groupNorm(P: OnnxParams, x: string, prefix: string, groups: number, eps = 1e-5): string {
  const g = P.g;
  const shape = g.node('Shape', [x]);
  const grouped = g.node('Reshape', [x, P.cached('shape:0,G,-1:' + groups, () => g.constI64('gn_shape', [0, groups, -1]))]); // [B, G, C/G·H·W]
  const ones = P.cached(`ones:${groups}`, () => g.constF('gn_ones', new Float32Array(groups).fill(1), [groups]));
  const zeros = P.cached(`zeros:${groups}`, () => g.constF('gn_zeros', new Float32Array(groups), [groups]));
  const normed = g.node('InstanceNormalization', [grouped, ones, zeros], { epsilon: { f: eps } }, 'gn');
  const back = g.node('Reshape', [normed, shape]);
  return g.node('Add', [g.node('Mul', [back, P.channelVector(`${prefix}.weight`)]), P.channelVector(`${prefix}.bias`)]);
}

export const relu = (g: OnnxGraph, x: string): string => g.node('Relu', [x]);

/** conv (no bias) -> GN -> ReLU, mmcv ConvModule names `${prefix}.conv`, `${prefix}.gn`. */
export function convGnRelu(P: OnnxParams, x: string, prefix: string, groups: number, spec: Partial<ConvSpec> = {}, withRelu = true): string {
  const y = groupNorm(P, storeConv(P, x, `${prefix}.conv`, spec), `${prefix}.gn`, groups);
  return withRelu ? relu(P.g, y) : y;
}

/**
 * Conv + eval-mode BN folded as the tfjs path does (filter·scale, bias = shift), computed with tf so the folded
 * values are the same float32 numbers; `bnPrefix` holds weight, bias, running_mean, running_var.
 */
export function convBnFolded(P: OnnxParams, x: string, convPrefix: string, bnPrefix: string, stride: number, pad: number | null, eps = 1e-5): string {
  const wShape = P.shape(`${convPrefix}.weight`);
  const k = wShape[0]!;
  const [filter, shift] = P.cached(`fold:${convPrefix}`, () => {
    // (typed arrays are read outside tf.tidy: tidy walks a returned array element by element)
    const folded = tf.tidy(() => {
      const s = P.store;
      const scale = tf.mul(s.get(`${bnPrefix}.weight`), tf.rsqrt(tf.add(s.get(`${bnPrefix}.running_var`), eps)));
      return [tf.mul(s.get(`${convPrefix}.weight`), scale), tf.sub(s.get(`${bnPrefix}.bias`), tf.mul(s.get(`${bnPrefix}.running_mean`), scale))];
    });
    const [f, sh] = folded.map((t) => t.dataSync() as Float32Array) as [Float32Array, Float32Array];
    tf.dispose(folded);
    const w = P.g.constF(safe(convPrefix) + '_folded', hwioToOihw(f, wShape), oihwShape(wShape));
    return `${w}|${P.g.constF(safe(bnPrefix) + '_shift', sh, [sh.length])}`;
  }).split('|') as [string, string];
  return conv(P.g, x, filter, shift, k, { stride, pad: pad ?? Math.floor(k / 2) });
}

/** x / max(‖x‖₂, 1e-12) along the last axis (torch F.normalize, as l2Normalize in atssHead.ts). */
export function l2NormalizeLast(g: OnnxGraph, x: string, rank: number): string {
  const axes = g.constI64('axes_last', [rank - 1]);
  const norm = g.node('ReduceL2', [x, axes], { keepdims: 1 });
  return g.node('Div', [x, g.node('Max', [norm, g.constF('eps', [1e-12], [])])]);
}

/** A scalar float constant. */
export const scalarF = (g: OnnxGraph, v: number, stem = 'c'): string => g.constF(stem, [v], []);
