// GatherV2 (replaced on wasm), UnsortedSegmentSum (new on wasm: tf.gather's gradient) and Einsum.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setupWasm, tf } from '../helpers/tf.ts';
import { expectNoBackendLeak, expectWasmMatchesCpu, randT } from './crossBackend.ts';

describe('gather / segment sum / einsum on wasm', () => {
  before(async () => {
    await setupWasm();
  });

  it('tf.gather forward matches cpu: axes 0..2, batchDims 1, 2-D indices, int32, 1-D', async () => {
    await expectWasmMatchesCpu('gather', () => {
      const x = randT([3, 4, 5], 1);
      const xi = tf.cast(tf.mul(x, 100), 'int32');
      return [
        tf.gather(x, [2, 0, 2, 1]),
        tf.gather(x, tf.tensor2d([[3, 0], [1, 1]], [2, 2], 'int32'), 1),
        tf.gather(x, [4, 4, 0], 2),
        tf.gather(x, tf.tensor2d([[1, 3], [0, 0], [2, 1]], [3, 2], 'int32'), 1, 1),
        tf.cast(tf.gather(xi, [1, 2], 1), 'float32'),
        tf.gather(tf.reshape(x, [60]), [59, 0, 7]),
        tf.gather(x, tf.tensor1d([], 'int32')),
      ];
    }, { rtol: 0, atol: 0 });
  });

  it('tf.gather rejects out-of-range indices and keeps bool data', () => {
    assert.throws(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), [3])), /index value 3 is not in \[0, 2\]/);
    const b = tf.tidy(() => tf.gather(tf.tensor1d([true, false], 'bool'), [1, 0, 1]).dataSync());
    assert.deepEqual(Array.from(b), [0, 1, 0]);
  });

  it('gradient of tf.gather (axis 0, axis 2, batchDims 1, repeated indices) matches cpu', async () => {
    await expectWasmMatchesCpu('gather grad', () => {
      const x = randT([4, 3, 5], 2);
      const r1 = randT([5, 3, 5], 3);
      const r2 = randT([4, 3, 4], 4);
      const r3 = randT([4, 2, 5], 5);
      const idx3 = tf.tensor2d([[0, 2], [1, 1], [2, 0], [1, 2]], [4, 2], 'int32');
      return tf.grad((a: tf.Tensor) =>
        tf.addN([
          tf.sum(tf.mul(tf.gather(a, [3, 0, 3, 3, 1]), r1)),
          tf.sum(tf.mul(tf.gather(a, [4, 4, 1, 0], 2), r2)),
          tf.sum(tf.mul(tf.gather(a, idx3, 1, 1), r3)),
        ]),
      )(x);
    });
  });

  it('tf.unsortedSegmentSum matches cpu, dropping negative and out-of-range ids', async () => {
    await expectWasmMatchesCpu('unsortedSegmentSum', () => {
      const x = randT([6, 2, 3], 6);
      return [
        tf.unsortedSegmentSum(x, tf.tensor1d([2, 0, 2, 1, 0, 2], 'int32'), 4),
        tf.unsortedSegmentSum(x, tf.tensor1d([1, -1, 5, 1, 0, 3], 'int32'), 3),
        tf.unsortedSegmentSum(tf.reshape(x, [36]), tf.tensor1d(Array.from({ length: 36 }, (_, i) => i % 5), 'int32'), 5),
      ];
    }, { rtol: 1e-6, atol: 1e-6 });
  });

  it('tf.einsum matches cpu (matmul, batched, outer product, trace-free reduction)', async () => {
    await expectWasmMatchesCpu('einsum', () => {
      const a = randT([3, 4], 7);
      const b = randT([4, 5], 8);
      const c = randT([2, 3, 4], 9);
      const d = randT([2, 4, 5], 10);
      return [tf.einsum('ij,jk->ik', a, b), tf.einsum('bij,bjk->bik', c, d), tf.einsum('i,j->ij', tf.reshape(a, [12]), tf.reshape(b, [20])), tf.einsum('bij->bj', c)];
    });
  });

  it('kernels leak no tensors or buffers', () => {
    const x = randT([5, 4], 1);
    const xT = tf.transpose(x);
    const ids = tf.tensor1d([0, -1, 1, 1, 9], 'int32');
    expectNoBackendLeak(() => {
      tf.dispose(tf.grad((a: tf.Tensor) => tf.sum(tf.gather(a, [4, 1, 1], 0)))(x));
      tf.dispose([tf.unsortedSegmentSum(x, ids, 2), tf.einsum('ij,jk->ik', x, xT), tf.gather(x, [2, 2], 1)]);
    });
    tf.dispose([x, xT, ids]);
  });
});
