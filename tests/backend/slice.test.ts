// Slice (replaced on wasm by a copy from heap views) against the cpu backend.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setupWasm, tf } from '../helpers/tf.ts';
import { expectNoBackendLeak, expectWasmMatchesCpu, randT } from './crossBackend.ts';

describe('slice on wasm', () => {
  before(async () => {
    await setupWasm();
  });

  it('matches cpu for ranks 1..6, partial/whole axes, size -1, int32 and bool', async () => {
    await expectWasmMatchesCpu('slice', () => {
      const x = randT([3, 4, 5, 2, 3, 2], 1);
      const i = tf.cast(tf.mul(x, 1000), 'int32');
      return [
        tf.slice(tf.reshape(x, [720]), [5], [17]),
        tf.slice(tf.reshape(x, [12, 60]), [2, 7], [5, 11]),
        tf.slice(tf.reshape(x, [12, 60]), [3, 0], [4, 60]),
        tf.slice(tf.reshape(x, [3, 20, 12]), [1, 2, 0], [2, -1, 12]),
        tf.slice(tf.reshape(x, [3, 4, 5, 12]), [0, 1, 1, 0], [3, 2, 3, 12]),
        tf.slice(tf.reshape(x, [3, 4, 5, 12]), [1, 0, 0, 0], [1, 4, 5, 12]),
        tf.slice(tf.reshape(x, [3, 4, 5, 6, 2]), [1, 1, 2, 3, 1], [2, 3, 2, 3, 1]),
        tf.slice(x, [0, 1, 2, 0, 1, 0], [3, 2, 3, 2, 2, 2]),
        tf.cast(tf.slice(i, [1, 0, 1, 1, 0, 1], [2, 4, 3, 1, 3, 1]), 'float32'),
        tf.cast(tf.slice(tf.greater(x, 0), [0, 2, 0, 0, 0, 0], [3, 2, 5, 2, 3, 2]), 'float32'),
        tf.slice(tf.reshape(x, [12, 60]), [0, 0], [0, 5]),
      ];
    }, { rtol: 0, atol: 0 });
  });

  it('gradients through slice / split / unstack match cpu', async () => {
    await expectWasmMatchesCpu('slice grads', () => {
      const x = randT([2, 6, 5, 4], 2);
      const r = randT([2, 3, 3, 2], 3);
      return tf.grad((a: tf.Tensor) =>
        tf.addN([
          tf.sum(tf.mul(tf.slice(a, [0, 2, 1, 1], [2, 3, 3, 2]), r)),
          tf.sum(tf.square(tf.split(a, [1, 3, 2], 1)[1]!)),
          tf.sum(tf.unstack(a, 3)[2]!),
        ]),
      )(x);
    });
  });

  it('tf.split / tf.unstack on every axis match cpu (forward)', async () => {
    await expectWasmMatchesCpu('split/unstack', () => {
      const x = randT([3, 4, 5, 6], 5);
      const i = tf.cast(tf.mul(x, 100), 'int32');
      return [
        ...tf.split(x, [1, 2], 0), ...tf.split(x, 2, 1), ...tf.split(x, [2, 1, 2], 2), ...tf.split(x, [4, 2], 3),
        ...tf.unstack(x, 0), ...tf.unstack(x, 1), ...tf.unstack(x, 2), ...tf.unstack(x, 3),
        ...tf.unstack(tf.reshape(x, [360])).slice(0, 3).map((t) => tf.reshape(t, [1])),
        ...tf.unstack(i, 3).map((t) => tf.cast(t, 'float32')),
        ...tf.split(tf.cast(tf.greater(x, 0), 'int32'), [3, 3], 3).map((t) => tf.cast(t, 'float32')),
      ];
    }, { rtol: 0, atol: 0 });
  });

  it('leaves no tensors or buffers and the input intact', () => {
    const x = randT([4, 6, 8], 4);
    const before = x.dataSync().slice();
    expectNoBackendLeak(() => tf.slice(x, [1, 2, 3], [2, 3, 4]).dispose());
    expectNoBackendLeak(() => tf.dispose([...tf.unstack(x, 2), ...tf.split(x, [2, 4], 1)]));
    assert.deepEqual(x.dataSync(), before);
    x.dispose();
  });
});
