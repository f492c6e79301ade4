// Conv2DBackpropFilter (new on wasm) and Conv2DBackpropInput (replaced on wasm) against the cpu backend.
import { before, describe, it } from 'node:test';
import { assertClose, setupWasm, tf } from '../helpers/tf.ts';
import { expectNoBackendLeak, expectWasmMatchesCpu, randT } from './crossBackend.ts';
import { conv2dFilterGrad } from '../../src/backend/kernels/conv2dBackpropFilter.ts';
import { conv2dInputGrad } from '../../src/backend/kernels/conv2dBackpropInput.ts';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Cfg {
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: number | [number, number];
  pad: Pad;
}
const CASES: Record<string, Cfg> = {
  'k3 s1 same': { x: [2, 7, 7, 3], f: [3, 3, 3, 5], s: 1, pad: 'same' },
  'k3 s2 same (TF asymmetric)': { x: [2, 8, 8, 3], f: [3, 3, 3, 4], s: 2, pad: 'same' },
  'k3 s2 valid odd': { x: [1, 9, 7, 2], f: [3, 3, 2, 3], s: 2, pad: 'valid' },
  'k3 s2 explicit 1': { x: [2, 8, 8, 3], f: [3, 3, 3, 4], s: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  'k3 s1 explicit asymmetric': { x: [1, 6, 7, 2], f: [3, 3, 2, 3], s: 1, pad: [[0, 0], [0, 2], [2, 1], [0, 0]] },
  'k3 s1 pad number': { x: [1, 6, 6, 2], f: [3, 3, 2, 2], s: 1, pad: 1 },
  'k7 s2 pad 3 (stem)': { x: [1, 12, 10, 3], f: [7, 7, 3, 4], s: 2, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
  'k1 s2 valid (phases without taps)': { x: [1, 6, 6, 4], f: [1, 1, 4, 2], s: 2, pad: 'valid' },
  'k1 s1 (1x1 conv)': { x: [2, 5, 5, 8], f: [1, 1, 8, 6], s: 1, pad: 'valid' },
  'k2x3 strides [1,2] same': { x: [1, 7, 9, 3], f: [2, 3, 3, 2], s: [1, 2], pad: 'same' },
  'k3 s3 valid': { x: [1, 10, 11, 2], f: [3, 3, 2, 3], s: 3, pad: 'valid' },
};

describe('conv2d gradients on wasm', () => {
  before(async () => {
    await setupWasm();
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: dx and dW of sum(conv * R) match cpu`, async () => {
      await expectWasmMatchesCpu(name, () => {
        const x = randT(c.x, 1) as tf.Tensor4D;
        const f = randT(c.f, 2) as tf.Tensor4D;
        const y = tf.conv2d(x, f, c.s, c.pad);
        const r = randT(y.shape, 3);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r)))([x, f]);
      });
    });
  }

  it('fused conv (bias + relu) gradients match cpu', async () => {
    await expectWasmMatchesCpu('fused', () => {
      const x = randT([2, 6, 6, 3], 4) as tf.Tensor4D;
      const f = randT([3, 3, 3, 4], 5) as tf.Tensor4D;
      const b = randT([4], 6) as tf.Tensor1D;
      return tf.grads((a: tf.Tensor, w: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, bias: bb, strides: 2, pad: 'same', activation: 'relu' })),
      )([x, f, b]);
    });
  });

  // Dilation: the tfjs Conv2D gradient refuses dilation, so test the helpers; the reference is the cpu
  // kernel applied to the equivalent undilated filter (taps spread out with zeros in between).
  for (const [s, d] of [[1, 2], [2, 2], [1, 3]] as const) {
    it(`helpers with dilation ${d}, stride ${s} match the zero-spread filter on cpu`, async () => {
      const [kh, kw, cin, cout] = [3, 2, 3, 2];
      const pad = { top: 2, bottom: 1, left: 1, right: 2 };
      const xs: [number, number, number, number] = [2, 9, 8, cin];
      const ekh = (kh - 1) * d + 1;
      const ekw = (kw - 1) * d + 1;
      const ho = Math.floor((xs[1] + pad.top + pad.bottom - ekh) / s) + 1;
      const wo = Math.floor((xs[2] + pad.left + pad.right - ekw) / s) + 1;
      const explicit: Pad = [[0, 0], [pad.top, pad.bottom], [pad.left, pad.right], [0, 0]];
      // f spread to [ekh, ekw]: tap (i, j) at (i*d, j*d).
      const spread = (f: tf.Tensor4D) => {
        const idx: number[] = [];
        for (let a = 0; a < ekh; a++) for (let b = 0; b < ekw; b++) idx.push(a % d === 0 && b % d === 0 ? (a / d) * kw + b / d : kh * kw);
        const taps = tf.concat([tf.reshape(f, [kh * kw, cin, cout]), tf.zeros([1, cin, cout])], 0);
        return tf.reshape(tf.gather(taps, idx), [ekh, ekw, cin, cout]) as tf.Tensor4D;
      };
      const unspread = (g: tf.Tensor) => tf.stridedSlice(g, [0, 0, 0, 0], [ekh, ekw, cin, cout], [d, d, 1, 1]);
      const inputs = () => ({ x: randT(xs, 7) as tf.Tensor4D, f: randT([kh, kw, cin, cout], 8) as tf.Tensor4D, dy: randT([2, ho, wo, cout], 9) as tf.Tensor4D });
      const [refDw, refDx] = await (async () => {
        await tf.setBackend('cpu');
        try {
          return tf.tidy(() => {
            const { x, f, dy } = inputs();
            const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad: explicit, dataFormat: 'NHWC', filterShape: [ekh, ekw, cin, cout] }) as tf.Tensor;
            const dX = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: spread(f) }, { strides: s, pad: explicit, dataFormat: 'NHWC', inputShape: xs }) as tf.Tensor;
            return [unspread(dW).dataSync().slice(), dX.dataSync().slice()];
          });
        } finally {
          await tf.setBackend('wasm');
        }
      })();
      tf.tidy(() => {
        const { x, f, dy } = inputs();
        assertClose(conv2dFilterGrad(x, dy, [kh, kw, cin, cout], [s, s], pad, [d, d]).dataSync(), refDw!, { rtol: 1e-4, atol: 1e-4, what: 'dW' });
        assertClose(conv2dInputGrad(dy, f, xs, [s, s], pad, [d, d]).dataSync(), refDx!, { rtol: 1e-4, atol: 1e-4, what: 'dx' });
      });
    });
  }

  it('kernels leak no tensors or buffers', () => {
    const x = randT([2, 8, 8, 3], 1) as tf.Tensor4D;
    const f = randT([3, 3, 3, 4], 2) as tf.Tensor4D;
    expectNoBackendLeak(() => {
      const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, f]);
      tf.dispose(gs);
    });
    tf.dispose([x, f]);
  });
});
