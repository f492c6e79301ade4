import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { loadFixtureJson, f32, type JsonTensor } from '../helpers/golden.ts';
import { giouLoss } from '../../src/loss/giouLoss.ts';

before(async () => { await setupBackend(); });

interface GiouFixture {
  params: { eps: number };
  boxes1: JsonTensor; boxes2: JsonTensor; loss_none: JsonTensor; loss_sum: number; loss_mean: number;
  grad_boxes1_of_sum: JsonTensor; grad_boxes2_of_sum: JsonTensor;
  tie_cases: { boxes1: JsonTensor; boxes2: JsonTensor; loss_none: JsonTensor };
}
const fx = () => loadFixtureJson<{ generalized_box_iou_loss: GiouFixture }>('golden/losses.json').generalized_box_iou_loss;
const TOL = { rtol: 1e-4, atol: 1e-5 };
const t2 = (j: JsonTensor) => tf.tensor2d(f32(j).data, j.shape as [number, number]);

test('giouLoss matches torchvision generalized_box_iou_loss: forward, reductions, gradients', () => {
  const c = fx();
  const b1 = t2(c.boxes1);
  const b2 = t2(c.boxes2);
  const none = giouLoss(b1, b2, { eps: c.params.eps });
  assert.deepEqual(none.shape, [48]);
  assertClose(none.dataSync(), f32(c.loss_none).data, { ...TOL, what: 'loss_none' });
  const sum = giouLoss(b1, b2, { reduction: 'sum' });
  const mean = giouLoss(b1, b2, { reduction: 'mean' });
  assertClose(sum.dataSync(), [c.loss_sum], { ...TOL, what: 'loss_sum' });
  assertClose(mean.dataSync(), [c.loss_mean], { ...TOL, what: 'loss_mean' });
  const [g1, g2] = tf.grads((a: tf.Tensor, b: tf.Tensor) => giouLoss(a, b, { reduction: 'sum' }))([b1, b2]);
  assertClose(g1!.dataSync(), f32(c.grad_boxes1_of_sum).data, { ...TOL, what: 'grad boxes1' });
  assertClose(g2!.dataSync(), f32(c.grad_boxes2_of_sum).data, { ...TOL, what: 'grad boxes2' });
  tf.dispose([b1, b2, none, sum, mean, g1!, g2!]);
});

test('giouLoss tie cases (identical, shared/touching edges, corners): forward matches torchvision', () => {
  const c = fx().tie_cases;
  const b1 = t2(c.boxes1);
  const b2 = t2(c.boxes2);
  const l = giouLoss(b1, b2);
  assertClose(l.dataSync(), f32(c.loss_none).data, { ...TOL, what: 'tie loss' });
  assert.equal(l.dataSync()[0], 0, 'identical boxes give exactly 0');
  tf.dispose([b1, b2, l]);
});

test('giouLoss works on batched [B, K, 4] boxes and by hand: disjoint unit boxes', () => {
  // [0,0,1,1] vs [2,0,3,1]: iou 0, enclosing area 3, union 2 -> giou = -1/3 -> loss 4/3.
  const a = tf.tensor3d([[[0, 0, 1, 1], [0, 0, 2, 2]]]);
  const b = tf.tensor3d([[[2, 0, 3, 1], [1, 1, 3, 3]]]);
  const l = giouLoss(a, b);
  assert.deepEqual(l.shape, [1, 2]);
  // second: inter 1, union 7, C 9 -> giou = 1/7 - 2/9
  assertClose(l.dataSync(), [4 / 3, 1 - (1 / 7 - 2 / 9)], { rtol: 1e-5, atol: 1e-6 });
  tf.dispose([a, b, l]);
});

test('giouLoss leaks no tensors', async () => {
  const a = tf.tensor2d([[0, 0, 2, 2]]);
  const b = tf.tensor2d([[1, 1, 3, 3]]);
  await expectNoLeak(() => {
    tf.dispose(giouLoss(a, b, { reduction: 'mean' }));
    tf.dispose(tf.grads((x: tf.Tensor, y: tf.Tensor) => giouLoss(x, y, { reduction: 'sum' }))([a, b]));
  });
  tf.dispose([a, b]);
});
