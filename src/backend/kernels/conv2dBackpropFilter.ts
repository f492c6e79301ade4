// Conv2DBackpropFilter for wasm (which lacks it): the filter gradient as ONE forward conv, so it runs on
// XNNPACK. With batch as the reduced "channel" axis:
//   dW[i,j,c,o] = sum_{n,ho,wo} xpad[n, ho*s + i*d, wo*s + j*d, c] * dy[n,ho,wo,o]
// is conv2d(input = xpad^T [C, H', W', N], filter = dy^T [Ho, Wo, N, O], dilation = s, stride = d)
// whose output [C, kh, kw, O] is dW with its axes rotated.
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { pair, padOrCrop, runComposed } from './compose.ts';

export interface Pad4 {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Filter gradient of an NHWC conv. x [N,H,W,C], dy [N,Ho,Wo,O] -> [kh,kw,C,O].
 * `pad` is the conv's resolved padding (tf.backend_util.computeConv2DInfo(...).padInfo).
 */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  strides: [number, number],
  pad: Pad4,
  dilations: [number, number] = [1, 1],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filterShape;
    const [sh, sw] = strides;
    const [dh, dw] = dilations;
    const [, h, w] = x.shape;
    const [, ho, wo] = dy.shape;
    // Rows/cols of the padded input the conv actually read.
    const needH = (kh - 1) * dh + (ho - 1) * sh + 1;
    const needW = (kw - 1) * dw + (wo - 1) * sw + 1;
    const xp = padOrCrop(x, [[0, 0], [pad.top, needH - pad.top - h], [pad.left, needW - pad.left - w], [0, 0]]);
    if (kh === 1 && kw === 1) {
      // 1x1: dW = x^T dy, one plain matmul (3-6x faster than the big-filter conv below).
      const [n, , , c] = x.shape;
      const o = dy.shape[3];
      const xs = sh > 1 || sw > 1 ? tf.stridedSlice(xp, [0, 0, 0, 0], [n, needH, needW, c], [1, sh, sw, 1]) : xp;
      const xT = tf.reshape(tf.transpose(xs, [3, 0, 1, 2]), [c, n * ho * wo]);
      return tf.reshape(tf.matMul(xT, tf.reshape(dy, [n * ho * wo, o])), [1, 1, c, o]) as tf.Tensor4D;
    }
    const xT = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [C, needH, needW, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, O]
    // Stride and dilation swap roles; tf.conv2d refuses both > 1, the kernel itself does not.
    const g = tf.engine().runKernel('Conv2D', { x: xT, filter: dyT }, {
      strides: [dh, dw],
      pad: 'valid',
      dataFormat: 'NHWC',
      dilations: [sh, sw],
    }) as tf.Tensor4D; // [C, kh, kw, O]
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  return runComposed([x, dy], ([xt, dyt]) =>
    conv2dFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, filterShape, pair(strides), info.padInfo),
  );
};

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
