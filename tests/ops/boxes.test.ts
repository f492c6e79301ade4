import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { loadFixtureJson, f32 } from '../helpers/golden.ts';
import {
  boxArea, boxAreaArray, boxIou, boxIouMatrix, clipBoxes, clipBoxesArray, cxcywhToXyxy, cxcywhToXyxyArray,
  generalizedBoxIou, generalizedBoxIouMatrix, xywhToXyxy, xywhToXyxyArray, xyxyToCxcywh, xyxyToCxcywhArray,
  xyxyToXywh, xyxyToXywhArray,
} from '../../src/ops/boxes.ts';

const fx = loadFixtureJson('golden/losses.json').box_iou_matrices;
const boxes1 = f32(fx.boxes1);
const boxes2 = f32(fx.boxes2);
const TOL = { rtol: 1e-4, atol: 1e-5 }; // README: losses / IoU matrices

describe('pairwise IoU / GIoU (torchvision box_iou_matrices fixture)', () => {
  before(setupBackend);

  it('tensor boxIou and generalizedBoxIou match torchvision [10, 15]', async () => {
    await expectNoLeak(async () => {
      const a = tf.tensor2d(boxes1.data, [10, 4]);
      const b = tf.tensor2d(boxes2.data, [15, 4]);
      const iou = boxIou(a, b);
      const giou = generalizedBoxIou(a, b);
      assert.deepEqual(iou.shape, [10, 15]);
      assertClose(await iou.data(), fx.box_iou.data, { ...TOL, what: 'box_iou' });
      assertClose(await giou.data(), fx.generalized_box_iou.data, { ...TOL, what: 'generalized_box_iou' });
      // boxes2[3] == boxes1[2]: IoU exactly 1; boxes2[7] disjoint from everything: IoU 0, GIoU < 0
      const iouArr = await iou.data();
      assert.equal(iouArr[2 * 15 + 3], 1);
      for (let i = 0; i < 10; i++) assert.equal(iouArr[i * 15 + 7], 0);
      tf.dispose([a, b, iou, giou]);
    });
  });

  it('typed-array versions reproduce torchvision float32 bit for bit', () => {
    const iou = boxIouMatrix(boxes1.data, boxes2.data);
    const giou = generalizedBoxIouMatrix(boxes1.data, boxes2.data);
    assert.deepEqual([...iou], fx.box_iou.data.map(Math.fround));
    assert.deepEqual([...giou], fx.generalized_box_iou.data.map(Math.fround));
  });

  it('gradients flow through boxIou / generalizedBoxIou (hand-computed, no min/max ties)', async () => {
    await expectNoLeak(async () => {
      // a = [0,0,2,2], b = [1,1,3,3]: inter 1, union 7, IoU 1/7; enclosing C = [0,0,3,3], area 9.
      // d/dx1: inter fixed, union -2 -> dIoU = 2/49; d/dx2: inter +1 (h = 1), union +1 -> (7 - 1)/49 = 6/49.
      // GIoU = IoU - 1 + U/C: d/dx1 adds (dU*C - U*dC)/C^2 = (-18 + 21)/81 = 1/27; d/dx2 adds 1/9 (C fixed).
      const a = tf.tensor2d([[0, 0, 2, 2]]);
      const b = tf.tensor2d([[1, 1, 3, 3]]);
      const iou = boxIou(a, b);
      const giou = generalizedBoxIou(a, b);
      assertClose(await iou.data(), [1 / 7], { what: 'iou' });
      assertClose(await giou.data(), [1 / 7 - 2 / 9], { what: 'giou' });
      const gi = tf.grad((t: tf.Tensor) => boxIou(t as tf.Tensor2D, b).sum())(a);
      const gg = tf.grad((t: tf.Tensor) => generalizedBoxIou(t as tf.Tensor2D, b).sum())(a);
      assertClose(await gi.data(), [2 / 49, 2 / 49, 6 / 49, 6 / 49], { what: 'grad iou' });
      assertClose(await gg.data(), [2 / 49 + 1 / 27, 2 / 49 + 1 / 27, 6 / 49 + 1 / 9, 6 / 49 + 1 / 9], { what: 'grad giou' });
      tf.dispose([a, b, iou, giou, gi, gg]);
    });
  });

  it('area, clip and format converters (tensor and array) on hand values', async () => {
    const xyxy = [10, 20, 40, 80, -5, 3, 15, 110];
    const xywh = [10, 20, 30, 60, -5, 3, 20, 107];
    const cxcywh = [25, 50, 30, 60, 5, 56.5, 20, 107];
    const clipped = [10, 20, 40, 80, 0, 3, 15, 100]; // image 100 high, 50 wide
    await expectNoLeak(async () => {
      const t = tf.tensor2d(xyxy, [2, 4]);
      const outs = [boxArea(t), xyxyToXywh(t), xyxyToCxcywh(t), clipBoxes(t, [100, 50])];
      const back1 = xywhToXyxy(outs[1]!);
      const back2 = cxcywhToXyxy(outs[2]!);
      assertClose(await outs[0]!.data(), [1800, 2140], { what: 'area' });
      assertClose(await outs[1]!.data(), xywh, { what: 'xywh' });
      assertClose(await outs[2]!.data(), cxcywh, { what: 'cxcywh' });
      assertClose(await outs[3]!.data(), clipped, { what: 'clip' });
      assertClose(await back1.data(), xyxy, { what: 'xywh->xyxy' });
      assertClose(await back2.data(), xyxy, { what: 'cxcywh->xyxy' });
      // leading dims: [1, 2, 4] -> [1, 2]
      const t3 = t.expandDims(0);
      const area3 = boxArea(t3);
      assert.deepEqual(area3.shape, [1, 2]);
      tf.dispose([t, t3, ...outs, back1, back2, area3]);
    });
    assert.deepEqual([...boxAreaArray(xyxy)], [1800, 2140]);
    assert.deepEqual([...xyxyToXywhArray(xyxy)], xywh);
    assert.deepEqual([...xywhToXyxyArray(xywh)], xyxy);
    assert.deepEqual([...xyxyToCxcywhArray(xyxy)], cxcywh);
    assert.deepEqual([...cxcywhToXyxyArray(cxcywh)], xyxy);
    assert.deepEqual([...clipBoxesArray(xyxy, [100, 50])], clipped);
    assert.throws(() => boxAreaArray([1, 2, 3]), /multiple of 4/);
  });

  it('empty inputs give empty matrices', async () => {
    await expectNoLeak(() => {
      const a = tf.zeros([0, 4]) as tf.Tensor2D;
      const b = tf.tensor2d([[0, 0, 1, 1]]);
      const m = boxIou(a, b);
      assert.deepEqual(m.shape, [0, 1]);
      tf.dispose([a, b, m]);
    });
    assert.equal(boxIouMatrix(new Float32Array(0), new Float32Array(4)).length, 0);
  });
});
