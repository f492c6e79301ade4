// BatchMatMul (replaced on wasm: transposes and batches become XNNPACK products), the buffer-sharing Identity,
// Sum over non-trailing axes, and the fused AdamW update kernel.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setupWasm, tf } from '../helpers/tf.ts';
import { expectNoBackendLeak, expectWasmMatchesCpu, randT } from './crossBackend.ts';
import { ADAMW_UPDATE } from '../../src/backend/kernels/adamwUpdate.ts';

describe('BatchMatMul on wasm', () => {
  before(async () => {
    await setupWasm();
  });

  it('every transpose combination, 2-D to 4-D, broadcast batches, big inner dimension: equals cpu', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 7], [7, 3], false, false], [[5, 7], [3, 7], false, true], [[7, 5], [7, 3], true, false], [[7, 5], [3, 7], true, true],
      [[4, 5, 7], [4, 7, 3], false, false], [[4, 7, 5], [4, 3, 7], true, true], [[4, 5, 7], [7, 3], false, false],
      [[5, 7], [4, 7, 3], false, false], [[2, 3, 5, 7], [2, 3, 3, 7], false, true], [[2, 3, 7, 5], [1, 7, 3], true, false],
      [[1, 5, 7], [4, 7, 3], false, false], [[300, 70], [300, 20], true, false], [[20, 300], [50, 300], false, true],
      [[3, 40, 7], [3, 40, 9], true, false], [[1, 1], [1, 1], true, true], [[6, 1, 9], [6, 9, 1], false, false],
    ];
    await expectWasmMatchesCpu('matMul', () => cases.map(([sa, sb, ta, tb], i) => tf.matMul(randT(sa, 2 * i + 1), randT(sb, 2 * i + 2), ta, tb)), { rtol: 1e-5, atol: 1e-5 });
  });

  it('gradients of a batched, transposed product equal cpu; nothing leaks, shape errors keep their message', async () => {
    await expectWasmMatchesCpu('matMul grads', () => {
      const a = randT([3, 6, 4], 1);
      const b = randT([3, 5, 6], 2);
      return tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, true, true))))([a, b]);
    }, { rtol: 1e-5, atol: 1e-5 });
    expectNoBackendLeak(() => tf.tidy(() => tf.matMul(randT([4, 6, 5], 1), randT([4, 7, 6], 2), true, true).dataSync()));
    assert.throws(() => tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2]))), /inner shapes \(3\) and \(4\)/);
  });

  it('a weight reused after its product is cached still multiplies correctly once reassigned', () => {
    const w = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const x = tf.tensor2d([[1, 1]]);
    const first = tf.tidy(() => Array.from(tf.matMul(x, w).dataSync()));
    w.assign(tf.tensor2d([[10, 20], [30, 40]]));
    const second = tf.tidy(() => Array.from(tf.matMul(x, w).dataSync()));
    assert.deepEqual([first, second], [[4, 6], [40, 60]]);
    tf.dispose([w, x]);
  });
});

describe('Identity on wasm shares the buffer', () => {
  before(async () => {
    await setupWasm();
  });

  it('a clone has the same values, survives the original and frees the buffer with the last reference', () => {
    expectNoBackendLeak(() => {
      const a = tf.tensor1d([1, 2, 3]);
      const c = tf.clone(a);
      a.dispose();
      assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3]);
      c.dispose();
    });
  });

  it('gradients that save their inputs (through clones) are unchanged', async () => {
    await expectWasmMatchesCpu('grads through saved tensors', () => {
      const x = randT([4, 5], 3);
      return tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(a), tf.exp(tf.mul(a, 0.3)))))([x]);
    });
  });
});

describe('Sum on wasm over non-trailing axes', () => {
  before(async () => {
    await setupWasm();
  });

  it('leading, middle and trailing blocks, keepDims, int32, scalars and gradients: equal cpu', async () => {
    await expectWasmMatchesCpu('sum', () => {
      const x = randT([3, 4, 5, 6], 1);
      return [
        tf.sum(x, [0, 1, 2]), tf.sum(x, 0), tf.sum(x, [1, 2], true), tf.sum(x, [2, 1]), tf.sum(x, -1), tf.sum(x, [0, 2]),
        tf.sum(x), tf.sum(x, [0, 1, 2, 3], true), tf.cast(tf.sum(tf.cast(tf.mul(x, 10), 'int32'), 0), 'float32'),
        ...tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.sum(a, [0, 1]), tf.range(1, 31).reshape([5, 6]))))([x]),
      ];
    }, { rtol: 1e-5, atol: 1e-5 });
    expectNoBackendLeak(() => tf.tidy(() => tf.sum(randT([4, 5, 3], 2), [0, 1]).dataSync()));
  });
});

describe('fused AdamW update kernel', () => {
  before(async () => {
    await setupWasm();
  });

  it('matches the tf op chain (the cpu path) to float32 rounding', async () => {
    const attrs = { beta1: 0.9, beta2: 0.999, eps: 1e-8, decayFactor: 1 - 1e-3 * 0.05, stepSize: 1e-3 / (1 - 0.9 ** 3), bc2Sqrt: Math.sqrt(1 - 0.999 ** 3) };
    const [p, g, m] = [randT([257], 1), randT([257], 2), randT([257], 3)];
    const v = tf.abs(randT([257], 4));
    const fused = tf.engine().runKernel(ADAMW_UPDATE, { p, g, m, v }, attrs) as tf.Tensor[];
    const m2 = tf.add(tf.mul(m, attrs.beta1), tf.mul(g, 1 - attrs.beta1));
    const v2 = tf.add(tf.mul(v, attrs.beta2), tf.mul(tf.square(g), 1 - attrs.beta2));
    const p2 = tf.sub(tf.mul(p, attrs.decayFactor), tf.mul(tf.div(m2, tf.add(tf.div(tf.sqrt(v2), attrs.bc2Sqrt), attrs.eps)), attrs.stepSize));
    [p2, m2, v2].forEach((want, i) => {
      const got = fused[i]!.dataSync();
      want.dataSync().forEach((w, j) => assert.ok(Math.abs(got[j]! - w) <= 1e-6 * Math.max(1, Math.abs(w)), `output ${i}[${j}]: ${got[j]} vs ${w}`));
    });
    tf.dispose([p, g, m, v, m2, v2, p2, ...fused]);
  });
});
