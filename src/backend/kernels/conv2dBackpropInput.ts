// Conv2DBackpropInput for wasm, replacing the built-in one (a plain C++ loop, ~10x slower than a forward
// conv). The input gradient of a strided conv is split into its s*s output phases ("polyphase"):
//   dx[s*a + r] = sum over taps i with (r + pad - i*d) % s == 0 of dy[a + (r + pad - i*d)/s] . W[i]^T
// Every phase reads dy through the same small window of offsets e in [emin, emax], so all phases are one
// stride-1 forward conv (XNNPACK) with s*s*C output channels; a transpose interleaves them.
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { pair, padOrCrop, runComposed } from './compose.ts';
import type { Pad4 } from './conv2dBackpropFilter.ts';

interface AxisPlan {
  /** Output rows per phase: ceil(L / s). */
  a: number;
  /** Window length over dy (the phase conv's kernel size). */
  e: number;
  /** dy is padded (cropped if negative) by this much in front and back. */
  front: number;
  back: number;
  /** tap[r][t] = kernel tap read by phase r at window offset t, or -1. */
  tap: number[][];
}

function planAxis(len: number, outLen: number, k: number, s: number, d: number, padFront: number): AxisPlan {
  let emin = Infinity;
  let emax = -Infinity;
  const pairs: Array<[number, number, number]> = []; // [phase r, tap i, offset e]
  for (let r = 0; r < s; r++) {
    for (let i = 0; i < k; i++) {
      const q = r + padFront - i * d;
      if (((q % s) + s) % s !== 0) continue;
      const e = Math.round(q / s);
      pairs.push([r, i, e]);
      emin = Math.min(emin, e);
      emax = Math.max(emax, e);
    }
  }
  const a = Math.ceil(len / s);
  const e = emax - emin + 1;
  const tap = Array.from({ length: s }, () => new Array<number>(e).fill(-1));
  for (const [r, i, off] of pairs) tap[r]![off - emin] = i;
  return { a, e, front: -emin, back: a - 1 + e - (outLen - emin), tap };
}

/**
 * Input gradient of an NHWC conv: dy [N,Ho,Wo,O], filter [kh,kw,C,O] -> [N,H,W,C] for `inputShape`.
 * `pad` is the conv's resolved padding (tf.backend_util.computeConv2DInfo(...).padInfo).
 */
export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad4,
  dilations: [number, number] = [1, 1],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = inputShape;
    const [kh, kw, , o] = filter.shape;
    const [sh, sw] = strides;
    const py = planAxis(h, dy.shape[1], kh, sh, dilations[0], pad.top);
    const px = planAxis(w, dy.shape[2], kw, sw, dilations[1], pad.left);
    // Phase filter [Eh, Ew, O, sh*sw*C] gathered from the taps of W^T (+ one zero block for "no tap").
    const idx: number[] = [];
    for (let th = 0; th < py.e; th++)
      for (let tw = 0; tw < px.e; tw++)
        for (let ry = 0; ry < sh; ry++)
          for (let rx = 0; rx < sw; rx++) {
            const i = py.tap[ry]![th]!;
            const j = px.tap[rx]![tw]!;
            idx.push(i < 0 || j < 0 ? kh * kw : i * kw + j);
          }
    const wT = tf.reshape(tf.transpose(filter, [0, 1, 3, 2]), [kh * kw, o, c]);
    const blocks = tf.concat([wT, tf.zeros([1, o, c])], 0);
    let f = tf.gather(blocks, tf.tensor1d(idx, 'int32')); // [Eh*Ew*sh*sw, O, C]
    f = tf.reshape(tf.transpose(tf.reshape(f, [py.e, px.e, sh * sw, o, c]), [0, 1, 3, 2, 4]), [py.e, px.e, o, sh * sw * c]);
    const dyp = padOrCrop(dy, [[0, 0], [py.front, py.back], [px.front, px.back], [0, 0]]);
    const y = tf.conv2d(dyp, f as tf.Tensor4D, 1, 'valid'); // [N, Ah, Aw, sh*sw*C]
    let full: tf.Tensor4D = y;
    if (sh > 1 || sw > 1) {
      // Interleave the phases: [N*Ah, Aw, sh, sw*C] -> [N*Ah, sh, Aw, sw*C] is [N, Ah*sh, Aw*sw, C]. (A 4-D
      // transpose is a fast path on wasm; DepthToSpace there is ~70x slower.)
      const t = tf.transpose(tf.reshape(y, [n * py.a, px.a, sh, sw * c]), [0, 2, 1, 3]);
      full = tf.reshape(t, [n, py.a * sh, px.a * sw, c]);
    }
    return full.shape[1] === h && full.shape[2] === w ? full : tf.slice(full, [0, 0, 0, 0], [n, h, w, c]);
  });
}

const conv2dBackpropInput: KernelFunc = ({ inputs, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput (wasm): only NHWC is supported');
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  return runComposed([dy, filter], ([d, f]) =>
    conv2dInputGrad(d as tf.Tensor4D, f as tf.Tensor4D, inputShape, pair(strides), info.padInfo),
  );
};

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput,
};
