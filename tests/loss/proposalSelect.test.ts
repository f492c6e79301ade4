import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { regionObjectness, selectProposals, selectProposalsArrays, selectProposalsSync } from '../../src/loss/proposalSelect.ts';

before(async () => { await setupBackend(); });

// Image 0: a1 overlaps a0 with IoU 81/119 = 0.68 (suppressed at 0.5, kept at 0.7); a3 scores highest.
// Image 1: four disjoint boxes, order by score.
const BOXES = [
  [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [50, 50, 60, 60]],
  [[0, 0, 5, 5], [10, 0, 15, 5], [20, 0, 25, 5], [30, 0, 35, 5]],
];
const SCORES = [[0.9, 0.8, 0.7, 0.95], [0.1, 0.4, 0.3, 0.2]];
const arr = (x: Int32Array[]) => x.map((a) => [...a]);

test('selectProposalsArrays: NMS then top-k, per image, by decreasing objectness', () => {
  const s = Float32Array.from(SCORES.flat());
  const b = Float32Array.from(BOXES.flat(2));
  assert.deepEqual(arr(selectProposalsArrays(s, b, 2)), [[3, 0, 2], [1, 2, 3, 0]]);
  assert.deepEqual(arr(selectProposalsArrays(s, b, 2, { k: 2 })), [[3, 0], [1, 2]]);
  assert.deepEqual(arr(selectProposalsArrays(s, b, 2, { nmsThreshold: 0.7 })), [[3, 0, 1, 2], [1, 2, 3, 0]]);
  assert.throws(() => selectProposalsArrays(s, b.subarray(4), 2), /box values/);
});

test('selectProposals (async) and selectProposalsSync agree on tensors', async () => {
  const s = tf.tensor2d(SCORES);
  const b = tf.tensor3d(BOXES);
  assert.deepEqual(arr(await selectProposals(s, b, { k: 2 })), [[3, 0], [1, 2]]);
  assert.deepEqual(arr(selectProposalsSync(s, b, { k: 2 })), [[3, 0], [1, 2]]);
  await assert.rejects(selectProposals(s, s), /boxes/);
  tf.dispose([s, b]);
});

test('regionObjectness: max cosine of each region over all batch concepts', async () => {
  const r = tf.tensor3d([[[1, 0], [0.6, 0.8]]]);
  const c = tf.tensor2d([[0, 1], [0.8, 0.6]]);
  // region 0: max(0, 0.8); region 1: max(0.8, 0.48 + 0.48)
  await expectNoLeak(() => {
    const o = regionObjectness(r, c);
    assert.deepEqual(o.shape, [1, 2]);
    assertClose(o.dataSync(), [0.8, 0.96], { rtol: 1e-6, atol: 1e-7 });
    o.dispose();
  });
  tf.dispose([r, c]);
});
