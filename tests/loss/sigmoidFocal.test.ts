import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { loadFixtureJson, f32, type JsonTensor } from '../helpers/golden.ts';
import { sigmoidFocalLoss, bceWithLogits } from '../../src/loss/sigmoidFocal.ts';

before(async () => { await setupBackend(); });

interface FocalCase {
  params: { alpha: number; gamma: number };
  logits: JsonTensor; targets: JsonTensor; loss_none: JsonTensor;
  loss_sum: number; loss_mean: number; grad_logits_of_sum_loss_none: JsonTensor;
}
const fx = () => loadFixtureJson<{ sigmoid_focal_loss: Record<string, FocalCase> }>('golden/losses.json').sigmoid_focal_loss;
const TOL = { rtol: 1e-4, atol: 1e-5 };

for (const name of ['binary_targets', 'soft_targets']) {
  test(`sigmoidFocalLoss matches torchvision (${name}): forward, reductions, gradient`, () => {
    const c = fx()[name]!;
    const x = tf.tensor(f32(c.logits).data, c.logits.shape);
    const t = tf.tensor(f32(c.targets).data, c.targets.shape);
    const opts = { alpha: c.params.alpha, gamma: c.params.gamma };
    const none = sigmoidFocalLoss(x, t, { ...opts, reduction: 'none' });
    assert.deepEqual(none.shape, c.loss_none.shape);
    assertClose(none.dataSync(), f32(c.loss_none).data, { ...TOL, what: 'loss_none' });
    const sum = sigmoidFocalLoss(x, t, { ...opts, reduction: 'sum' });
    const mean = sigmoidFocalLoss(x, t, { ...opts, reduction: 'mean' });
    assertClose(sum.dataSync(), [c.loss_sum], { ...TOL, what: 'loss_sum' });
    assertClose(mean.dataSync(), [c.loss_mean], { ...TOL, what: 'loss_mean' });
    const g = tf.grad((l: tf.Tensor) => sigmoidFocalLoss(l, t, { ...opts, reduction: 'sum' }))(x);
    assertClose(g.dataSync(), f32(c.grad_logits_of_sum_loss_none).data, { ...TOL, what: 'grad' });
    tf.dispose([x, t, none, sum, mean, g]);
  });
}

test('sigmoidFocalLoss defaults are alpha 0.25, gamma 2, no reduction; gamma 0 / alpha<0 give plain BCE', () => {
  const x = tf.tensor1d([2, -1, 0]);
  const t = tf.tensor1d([1, 0, 1]);
  const d = sigmoidFocalLoss(x, t).dataSync();
  const s = (v: number) => 1 / (1 + Math.exp(-v));
  const hand = [
    Math.log(1 + Math.exp(-2)) * (1 - s(2)) ** 2 * 0.25,
    Math.log(1 + Math.exp(-1)) * s(-1) ** 2 * 0.75,
    Math.log(2) * 0.25 * 0.25,
  ];
  assertClose(d, hand, { rtol: 1e-5, atol: 1e-7 });
  const bce = sigmoidFocalLoss(x, t, { alpha: -1, gamma: 0 }).dataSync();
  assertClose(bce, [Math.log(1 + Math.exp(-2)), Math.log(1 + Math.exp(-1)), Math.log(2)], { rtol: 1e-5, atol: 1e-7 });
  // Extreme logits stay accurate (stable form): BCE(15, 0) = 15 + log1p(e^-15).
  assertClose(bceWithLogits(tf.tensor1d([15, -15]), tf.tensor1d([0, 1])).dataSync(), [15 + Math.log1p(Math.exp(-15)), 15 + Math.log1p(Math.exp(-15))], { rtol: 1e-6, atol: 0 });
  tf.dispose([x, t]);
});

test('sigmoidFocalLoss leaks no tensors (forward and gradient)', async () => {
  const x = tf.tensor2d([[1, -2], [0.5, 3]]);
  const t = tf.tensor2d([[1, 0], [0, 1]]);
  await expectNoLeak(() => {
    tf.dispose(sigmoidFocalLoss(x, t, { reduction: 'mean' }));
    tf.dispose(sigmoidFocalLoss(x, t, { gamma: 1.5 }));
    tf.dispose(tf.grad((l: tf.Tensor) => sigmoidFocalLoss(l, t, { reduction: 'sum' }))(x));
  });
  tf.dispose([x, t]);
});
