import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { centernessLoss, giouLocalizationLoss, type LocalizationTargets } from '../../src/loss/localizationLoss.ts';

before(async () => { await setupBackend(); });

// B = 1, K = 3: anchors 0 and 2 positive, anchor 1 negative (its predicted box is NaN on purpose).
// anchor 0: pred [0,0,2,2] vs gt [1,1,3,3]: inter 1, union 7, enclosing 9 -> loss 1 - (1/7 - 2/9)
// anchor 2: pred [0,0,1,1] vs gt [2,0,3,1]: inter 0, union 2, enclosing 3 -> loss 1 + 1/3
const L0 = 1 - (1 / 7 - 2 / 9);
const L2 = 4 / 3;
const PRED = [[[0, 0, 2, 2], [NaN, NaN, NaN, NaN], [0, 0, 1, 1]]];
const softplus = (x: number) => Math.log1p(Math.exp(x));

function targets(c0: number, c2: number): LocalizationTargets {
  return {
    boxes: tf.tensor3d([[[1, 1, 3, 3], [0, 0, 1, 1], [2, 0, 3, 1]]]),
    positiveBoxMask: tf.tensor3d([[[1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]]], undefined, 'bool'),
    positiveWeight: tf.tensor2d([[1, 0, 1]]),
    centerness: tf.tensor2d([[c0, 0, c2]]),
    numPositive: 2,
    centernessSum: c0 + c2,
  };
}
const free = (t: LocalizationTargets) => tf.dispose([t.boxes, t.positiveBoxMask, t.positiveWeight, t.centerness]);

test('giouLocalizationLoss: centerness-weighted GIoU over positives / max(1, Σ centerness) (mmdet ATSS)', () => {
  const pred = tf.tensor3d(PRED);
  const small = targets(0.5, 0.25); // Σ = 0.75 -> clamped to 1
  const big = targets(0.8, 0.9); // Σ = 1.7
  const a = giouLocalizationLoss(pred, small);
  const b = giouLocalizationLoss(pred, big);
  assertClose(a.dataSync(), [0.5 * L0 + 0.25 * L2], { rtol: 1e-5, atol: 1e-6 });
  assertClose(b.dataSync(), [(0.8 * L0 + 0.9 * L2) / 1.7], { rtol: 1e-5, atol: 1e-6 });
  tf.dispose([pred, a, b]);
  free(small);
  free(big);
});

test('giouLocalizationLoss gradient: finite, exactly zero on the negative (NaN) box', () => {
  const pred = tf.tensor3d(PRED);
  const t = targets(0.8, 0.9);
  const g = tf.grad((p: tf.Tensor) => giouLocalizationLoss(p, t))(pred).dataSync();
  assert.deepEqual([...g.slice(4, 8)], [0, 0, 0, 0]);
  assert.ok(g.every(Number.isFinite));
  // Anchor 2 (disjoint, pred [0,0,x2,1] vs [2,0,3,1], x2 = 1 < 2): loss = 1 + (C - U)/C = 2 - U/C with
  // U = x2 + 1 and C = 3 (fixed), so d/dx2 = -1/3, weighted by 0.9 / 1.7.
  assertClose([g[10]!], [(-1 / 3) * 0.9 / 1.7], { rtol: 1e-4, atol: 1e-6 });
  tf.dispose(pred);
  free(t);
});

test('centernessLoss: BCE-with-logits on positives, mean over positives', () => {
  const logits = tf.tensor2d([[1, 5, -1]]);
  const t = targets(0.5, 0.25);
  const l = centernessLoss(logits, t);
  const bce = (x: number, y: number) => softplus(x) - x * y;
  assertClose(l.dataSync(), [(bce(1, 0.5) + bce(-1, 0.25)) / 2], { rtol: 1e-5, atol: 1e-7 });
  const g = tf.grad((x: tf.Tensor) => centernessLoss(x, t))(logits).dataSync();
  const s = (x: number) => 1 / (1 + Math.exp(-x));
  assertClose(g, [(s(1) - 0.5) / 2, 0, (s(-1) - 0.25) / 2], { rtol: 1e-5, atol: 1e-7 });
  tf.dispose([logits, l]);
  free(t);
});

test('no positives: both losses are 0 and still connected to the predictions', () => {
  const pred = tf.tensor3d([[[0, 0, 1, 1]]]);
  const logits = tf.tensor2d([[0.3]]);
  const t: LocalizationTargets = {
    boxes: tf.tensor3d([[[0, 0, 1, 1]]]), positiveBoxMask: tf.tensor3d([[[0, 0, 0, 0]]], undefined, 'bool'),
    positiveWeight: tf.tensor2d([[0]]), centerness: tf.tensor2d([[0]]), numPositive: 0, centernessSum: 0,
  };
  const [gp, gl] = tf.grads((p: tf.Tensor, c: tf.Tensor) => tf.add(giouLocalizationLoss(p, t), centernessLoss(c, t)))([pred, logits]);
  assert.deepEqual([...gp!.dataSync(), ...gl!.dataSync()], [0, 0, 0, 0, 0]);
  const v = tf.add(giouLocalizationLoss(pred, t), centernessLoss(logits, t));
  assert.equal(v.dataSync()[0], 0);
  tf.dispose([pred, logits, gp!, gl!, v]);
  free(t);
});

test('localisation losses leak no tensors', async () => {
  const pred = tf.tensor3d(PRED);
  const logits = tf.tensor2d([[1, 5, -1]]);
  const t = targets(0.5, 0.25);
  await expectNoLeak(() => {
    tf.dispose([giouLocalizationLoss(pred, t), centernessLoss(logits, t)]);
    tf.dispose(tf.grads((p: tf.Tensor, c: tf.Tensor) => tf.add(giouLocalizationLoss(p, t), centernessLoss(c, t)))([pred, logits]));
  });
  tf.dispose([pred, logits]);
  free(t);
});
