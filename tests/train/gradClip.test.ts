import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { clipGradNorm, globalGradNorm, type GradMap } from '../../src/train/gradClip.ts';
import { GradAccumulator } from '../../src/train/gradAccumulator.ts';

before(setupBackend);

const grads = (): GradMap => new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 0])], ['b', tf.tensor2d([[0, 4]])]]); // global norm 5
const disposeAll = (g: GradMap): void => { for (const t of g.values()) t.dispose(); };

test('global norm over all gradients', async () => {
  await expectNoLeak(() => {
    const g = grads();
    assert.ok(Math.abs(globalGradNorm(g) - 5) < 1e-6);
    assert.equal(globalGradNorm(new Map()), 0);
    disposeAll(g);
  });
});

test('clips to maxNorm with torch coefficient maxNorm/(norm+1e-6); untouched below maxNorm', async () => {
  await expectNoLeak(() => {
    const r = clipGradNorm(grads(), 2.5);
    assert.ok(Math.abs(r.norm - 5) < 1e-6);
    const c = 2.5 / (5 + 1e-6);
    assertClose(r.grads.get('a')!.dataSync(), [3 * c, 0], { what: 'a' });
    assertClose(r.grads.get('b')!.dataSync(), [0, 4 * c], { what: 'b' });
    assert.deepEqual(r.grads.get('b')!.shape, [1, 2]);
    disposeAll(r.grads);
    const g = grads();
    const same = clipGradNorm(g, 10);
    assert.equal(same.grads, g, 'no copy when under the limit');
    disposeAll(same.grads);
    assert.throws(() => clipGradNorm(new Map(), 0), /maxNorm must be > 0/);
  });
});

test('non-finite norm is reported, grads returned untouched', async () => {
  await expectNoLeak(() => {
    const g: GradMap = new Map([['a', tf.tensor1d([NaN, 1])]]);
    const r = clipGradNorm(g, 1);
    assert.ok(Number.isNaN(r.norm));
    disposeAll(r.grads);
  });
});

test('accumulator returns the mean over micro-batches; a missing grad counts as zero', async () => {
  await expectNoLeak(() => {
    const acc = new GradAccumulator();
    acc.add(new Map([['a', tf.tensor1d([1, 2])], ['b', tf.tensor1d([4])]]));
    acc.add(new Map([['a', tf.tensor1d([3, 6])]]));
    assert.equal(acc.size, 2);
    const m = acc.take();
    assertClose(m.get('a')!.dataSync(), [2, 4], { what: 'a' });
    assertClose(m.get('b')!.dataSync(), [2], { what: 'b' });
    assert.equal(acc.size, 0);
    disposeAll(m);
    acc.add(new Map([['a', tf.tensor1d([1])]]));
    const one = acc.take(1);
    assertClose(one.get('a')!.dataSync(), [1]);
    disposeAll(one);
    acc.add(new Map([['a', tf.tensor1d([1])]]));
    acc.dispose();
  });
});
