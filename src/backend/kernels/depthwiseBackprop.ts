// DepthwiseConv2dNativeBackpropInput / ...Filter for wasm (which lacks both). Filter [kh,kw,C,M],
// output channel c*M + m. Depthwise convs are cheap, so these favour simple compositions:
//  - input grad: dy with s-1 zeros inserted between samples, padded, then a depthwise conv (dilation d)
//    with the 180-degree-rotated filter, summed over the multiplier M;
//  - filter grad: per tap, the strided window of x times dy, summed over N*Ho*Wo with a ones matmul.
import * as tf from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
} from '@tensorflow/tfjs';
import { pair, padOrCrop, runComposed } from './compose.ts';
import type { Pad4 } from './conv2dBackpropFilter.ts';

/** [N,H,W,C] -> [N,(H-1)*sh+1,(W-1)*sw+1,C] with sh-1 / sw-1 zeros between rows / cols. */
function insertZeros(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const six = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const flat = tf.reshape(six, [n, h * sh, w * sw, c]) as tf.Tensor4D;
  return tf.slice(flat, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/** Input gradient of tf.depthwiseConv2d: dy [N,Ho,Wo,C*M], filter [kh,kw,C,M] -> [N,H,W,C]. */
export function depthwiseInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inputShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad4,
  dilations: [number, number] = [1, 1],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = inputShape;
    const [kh, kw, , m] = filter.shape;
    const [dh, dw] = dilations;
    const up = insertZeros(dy, strides[0], strides[1]);
    // dx[y] = sum_i' up[y + pad - (k-1)*d + i'*d] * W[k-1-i']: a valid dilated conv after this padding.
    const fy = (kh - 1) * dh - pad.top;
    const fx = (kw - 1) * dw - pad.left;
    const up2 = padOrCrop(up, [
      [0, 0],
      [fy, h + (kh - 1) * dh - fy - up.shape[1]],
      [fx, w + (kw - 1) * dw - fx - up.shape[2]],
      [0, 0],
    ]);
    const rot = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(up2, rot, 1, 'valid', 'NHWC', [dh, dw]); // [N,H,W,C*M]
    return m === 1 ? y : (tf.sum(tf.reshape(y, [n, h, w, c, m]), -1) as tf.Tensor4D);
  });
}

/** Filter gradient of tf.depthwiseConv2d: x [N,H,W,C], dy [N,Ho,Wo,C*M] -> [kh,kw,C,M]. */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad4,
  dilations: [number, number] = [1, 1],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, m] = filterShape;
    const [sh, sw] = strides;
    const [dh, dw] = dilations;
    const [n, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    const p = n * ho * wo;
    const needH = (kh - 1) * dh + (ho - 1) * sh + 1;
    const needW = (kw - 1) * dw + (wo - 1) * sw + 1;
    const xp = padOrCrop(x, [[0, 0], [pad.top, needH - pad.top - h], [pad.left, needW - pad.left - w], [0, 0]]);
    const dy3 = tf.reshape(dy, [p, c, m]);
    const ones = tf.ones([1, p]);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const win = tf.stridedSlice(
          xp,
          [0, i * dh, j * dw, 0],
          [n, i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1, c],
          [1, sh, sw, 1],
        );
        const prod = tf.mul(tf.reshape(win, [p, c, 1]), dy3); // [P, C, M]
        taps.push(tf.matMul(ones, tf.reshape(prod, [p, c * m]))); // [1, C*M]
      }
    }
    return tf.reshape(tf.concat(taps, 0), [kh, kw, c, m]);
  });
}

function convInfo(
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: DepthwiseConv2dNativeBackpropInputAttrs['pad'],
  round: DepthwiseConv2dNativeBackpropInputAttrs['dimRoundingMode'],
) {
  return tf.backend_util.computeConv2DInfo(inShape, filterShape, strides, dilations, pad, round, true);
}

const backpropInput: KernelFunc = ({ inputs, attrs }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const fs = filter.shape as [number, number, number, number];
  const info = convInfo(a.inputShape, fs, a.strides, a.dilations, a.pad, a.dimRoundingMode);
  return runComposed([dy, filter], ([d, f]) =>
    depthwiseInputGrad(d as tf.Tensor4D, f as tf.Tensor4D, a.inputShape, pair(a.strides), info.padInfo, pair(a.dilations)),
  );
};

const backpropFilter: KernelFunc = ({ inputs, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const xs = x.shape as [number, number, number, number];
  const info = convInfo(xs, a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode);
  return runComposed([x, dy], ([xt, d]) =>
    depthwiseFilterGrad(xt as tf.Tensor4D, d as tf.Tensor4D, a.filterShape, pair(a.strides), info.padInfo, pair(a.dilations)),
  );
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: backpropInput,
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: backpropFilter,
};
