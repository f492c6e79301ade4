// The hand-written gradients of linear / layer norm / QuickGELU against autodiff of the plain compositions,
// on wasm and on the cpu reference backend; forward values identical; no leaks.
import { before, describe, it } from 'node:test';
import { assertClose, expectNoLeak, setupBackend, tf } from '../helpers/tf.ts';
import { layerNorm, linear, mlpQuickGelu, quickGelu } from '../../src/ops/fusedLayers.ts';
import { randT, values } from '../backend/crossBackend.ts';

const plainLinear = (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor => {
  const y = tf.matMul(x as tf.Tensor2D, tf.transpose(w as tf.Tensor2D));
  return b ? tf.add(y, b) : y;
};
const plainLayerNorm = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
};
const plainQuickGelu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));

/** Value and gradients (w.r.t. every input) of sum(f(...) · R) for a fixed random R. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const y = f(...inputs);
    const r = tf.tensor(values(y.size, 99), y.shape);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
    return [y, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

function expectSame(what: string, fused: (...xs: tf.Tensor[]) => tf.Tensor, plain: (...xs: tf.Tensor[]) => tf.Tensor, shapes: number[][], { rtol = 1e-4, atol = 1e-5 } = {}): void {
  const inputs = shapes.map((s, i) => randT(s, 10 + i));
  const got = valueAndGrads(fused, inputs);
  const want = valueAndGrads(plain, inputs);
  got.forEach((g, i) => assertClose(g, want[i]!, { rtol, atol, what: `${what} ${i === 0 ? 'value' : `grad ${i - 1}`}` }));
  tf.dispose(inputs);
}

for (const backend of ['wasm', 'cpu']) {
  describe(`fused layers (${backend})`, () => {
    before(async () => {
      await setupBackend();
      await tf.setBackend(backend);
    });

    it('linear with and without bias: value and all gradients equal autodiff of matMul(x, wᵀ) + b', async () => {
      await expectNoLeak(() => {
        expectSame('linear+b', (x, w, b) => linear(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D), plainLinear, [[37, 24], [19, 24], [19]]);
        expectSame('linear', (x, w) => linear(x as tf.Tensor2D, w as tf.Tensor2D), (x, w) => plainLinear(x!, w!), [[5, 8], [3, 8]]);
      });
    });

    it('layer norm over the last axis (2-D and 3-D input): value and gradients of x, w, b', async () => {
      await expectNoLeak(() => {
        expectSame('layerNorm 2-D', (x, w, b) => layerNorm(x!, w!, b!, 1e-5), (x, w, b) => plainLayerNorm(x!, w!, b!, 1e-5), [[13, 32], [32], [32]], { rtol: 1e-3, atol: 1e-4 });
        expectSame('layerNorm 3-D', (x, w, b) => layerNorm(x!, w!, b!, 1e-5), (x, w, b) => plainLayerNorm(x!, w!, b!, 1e-5), [[3, 7, 16], [16], [16]], { rtol: 1e-3, atol: 1e-4 });
      });
    });

    it('CLIP MLP (c_fc, QuickGELU, c_proj): value and all five gradients', async () => {
      await expectNoLeak(() => {
        expectSame('mlp', (h, wf, bf, wp, bp) => mlpQuickGelu(h as tf.Tensor2D, wf as tf.Tensor2D, bf as tf.Tensor1D, wp as tf.Tensor2D, bp as tf.Tensor1D),
          (h, wf, bf, wp, bp) => plainLinear(plainQuickGelu(plainLinear(h!, wf!, bf)), wp!, bp), [[9, 6], [12, 6], [12], [5, 12], [5]]);
      });
    });

    it('QuickGELU: value and gradient', async () => {
      await expectNoLeak(() => {
        expectSame('quickGelu', (x) => quickGelu(tf.mul(x!, 4)), (x) => plainQuickGelu(tf.mul(x!, 4)), [[11, 9]]);
      });
    });
  });
}
