// DepthwiseConv2dNativeBackpropInput / ...Filter (new on wasm) against the cpu backend.
import { before, describe, it } from 'node:test';
import { assertClose, setupWasm, tf } from '../helpers/tf.ts';
import { expectNoBackendLeak, expectWasmMatchesCpu, randT, runOn } from './crossBackend.ts';

type Pad = 'same' | 'valid' | number;
const CASES: Array<{ name: string; x: number[]; f: number[]; s: number; pad: Pad }> = [
  { name: 'M=1 s1 same', x: [2, 7, 7, 3], f: [3, 3, 3, 1], s: 1, pad: 'same' },
  { name: 'M=2 s1 valid', x: [1, 6, 8, 2], f: [3, 3, 2, 2], s: 1, pad: 'valid' },
  { name: 'M=1 s2 same', x: [2, 8, 8, 3], f: [3, 3, 3, 1], s: 2, pad: 'same' },
  { name: 'M=3 s2 valid odd', x: [1, 9, 7, 2], f: [3, 2, 2, 3], s: 2, pad: 'valid' },
  { name: 'M=1 s2 pad 1', x: [1, 7, 7, 4], f: [5, 5, 4, 1], s: 2, pad: 1 },
];

describe('depthwise conv gradients on wasm', () => {
  before(async () => {
    await setupWasm();
  });

  for (const c of CASES) {
    it(`${c.name}: dx and dW match cpu`, async () => {
      await expectWasmMatchesCpu(c.name, () => {
        const x = randT(c.x, 1) as tf.Tensor4D;
        const f = randT(c.f, 2) as tf.Tensor4D;
        const y = tf.depthwiseConv2d(x, f, c.s, c.pad);
        const r = randT(y.shape, 3);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r)))([x, f]);
      });
    });
  }

  // cpu's depthwise backprop kernels ignore dilation, so the reference is the undilated kernel applied to
  // the filter with its taps spread out by zeros (a dilated conv is exactly that).
  it('kernels with dilation 2 match the zero-spread filter on cpu', async () => {
    const fShape: [number, number, number, number] = [3, 2, 3, 2];
    const spreadShape: [number, number, number, number] = [5, 3, 3, 2];
    const xShape: [number, number, number, number] = [1, 9, 8, 3];
    const run = (backend: 'cpu' | 'wasm') =>
      runOn(backend, () => {
        const x = randT(xShape, 4) as tf.Tensor4D;
        const f = randT(fShape, 6) as tf.Tensor4D;
        const dy = randT([1, 9, 8, 6], 5) as tf.Tensor4D;
        if (backend === 'wasm') {
          const attrs = { strides: 1, pad: 'same', dilations: 2 };
          return [
            tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: f }, { ...attrs, inputShape: xShape }) as tf.Tensor,
            tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: fShape }) as tf.Tensor,
          ];
        }
        // f [3,2] -> [5,3] with taps at even rows/cols.
        const spread = tf.pad(tf.reshape(f, [3, 1, 2, 1, 3, 2]), [[0, 0], [0, 1], [0, 0], [0, 1], [0, 0], [0, 0]]);
        const fs = tf.slice(tf.reshape(spread, [6, 4, 3, 2]), [0, 0, 0, 0], spreadShape) as tf.Tensor4D;
        const attrs = { strides: 1, pad: 'same', dilations: 1 };
        const dW = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: spreadShape }) as tf.Tensor;
        return [
          tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: fs }, { ...attrs, inputShape: xShape }) as tf.Tensor,
          tf.stridedSlice(dW, [0, 0, 0, 0], spreadShape, [2, 2, 1, 1]),
        ];
      });
    const ref = await run('cpu');
    const got = await run('wasm');
    assertClose(got[0]!, ref[0]!, { rtol: 1e-4, atol: 1e-4, what: 'dx' });
    assertClose(got[1]!, ref[1]!, { rtol: 1e-4, atol: 1e-4, what: 'dW' });
  });

  it('separable conv (depthwise + pointwise) trains: gradients match cpu', async () => {
    await expectWasmMatchesCpu('separable', () => {
      const x = randT([2, 6, 6, 3], 7) as tf.Tensor4D;
      const dw = randT([3, 3, 3, 2], 8) as tf.Tensor4D;
      const pw = randT([1, 1, 6, 4], 9) as tf.Tensor4D;
      return tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.square(tf.separableConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, 1, 'same'))),
      )([x, dw, pw]);
    });
  });

  it('kernels leak no tensors or buffers', () => {
    const x = randT([1, 6, 6, 2], 1) as tf.Tensor4D;
    const f = randT([3, 3, 2, 2], 2) as tf.Tensor4D;
    expectNoBackendLeak(() => {
      tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, f]));
    });
    tf.dispose([x, f]);
  });
});
