import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { alignmentLoss } from '../../src/loss/alignmentLoss.ts';

before(async () => { await setupBackend(); });

// float64 reference of torchvision's focal loss (alpha 0.25, gamma 2), written from its formula.
const sig = (x: number) => 1 / (1 + Math.exp(-x));
function focal(x: number, t: number): number {
  const p = sig(x);
  const ce = Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
  const pt = p * t + (1 - p) * (1 - t);
  return ce * (1 - pt) ** 2 * (0.25 * t + 0.75 * (1 - t));
}

const LOGITS = [[[2, -1], [0, 1], [-3, 0.5]], [[1.5, -2], [4, -0.5], [0.25, -1]]]; // [B=2, K=3, M=2]
const TARGETS = [[[1, 0], [0, 0], [0, 1]], [[0, 0], [1, 0], [0, 0]]]; // 3 positive anchors

test('alignmentLoss = Σ focal / max(1, numPositive), by hand', () => {
  const x = tf.tensor3d(LOGITS);
  const t = tf.tensor3d(TARGETS);
  let sum = 0;
  LOGITS.flat(2).forEach((v, i) => { sum += focal(v, TARGETS.flat(2)[i]!); });
  const l = alignmentLoss(x, t, 3);
  assert.deepEqual(l.shape, []);
  assertClose(l.dataSync(), [sum / 3], { rtol: 1e-5, atol: 1e-7 });
  const zeros = tf.zerosLike(t);
  const none = alignmentLoss(x, zeros, 0); // no positives: divide by 1
  let negSum = 0;
  LOGITS.flat(2).forEach((v) => { negSum += focal(v, 0); });
  assertClose(none.dataSync(), [negSum], { rtol: 1e-5, atol: 1e-7 });
  tf.dispose([x, t, l, none, zeros]);
});

test('alignmentLoss gradient matches a float64 finite difference of the reference', () => {
  const x = tf.tensor3d(LOGITS);
  const t = tf.tensor3d(TARGETS);
  const g = tf.grad((l: tf.Tensor) => alignmentLoss(l, t, 3))(x);
  const h = 1e-6;
  const flatT = TARGETS.flat(2);
  const expected = LOGITS.flat(2).map((v, i) => (focal(v + h, flatT[i]!) - focal(v - h, flatT[i]!)) / (2 * h) / 3);
  assertClose(g.dataSync(), expected, { rtol: 1e-4, atol: 1e-6 });
  tf.dispose([x, t, g]);
});

test('alignmentLoss checks shapes and leaks nothing', async () => {
  const x = tf.tensor3d(LOGITS);
  const t = tf.tensor3d(TARGETS);
  const wrong = tf.zeros([2, 3, 3]);
  assert.throws(() => alignmentLoss(x, wrong, 1), /logits \[2,3,2\] vs targets \[2,3,3\]/);
  wrong.dispose();
  await expectNoLeak(() => {
    tf.dispose(alignmentLoss(x, t, 3, { alpha: 0.5, gamma: 1 }));
    tf.dispose(tf.grad((l: tf.Tensor) => alignmentLoss(l, t, 3))(x));
  });
  tf.dispose([x, t]);
});
