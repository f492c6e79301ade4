// Box IoU, checked against hand-computed values (boxes are [x, y, w, h]).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxIou, boxIouMatrix } from '../../src/eval/iou.ts';

test('IoU of overlapping, nested, touching and disjoint boxes', () => {
  assert.equal(boxIou([0, 0, 10, 10], [5, 5, 10, 10]), 25 / 175);
  assert.equal(boxIou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.equal(boxIou([2, 2, 4, 4], [0, 0, 10, 10]), 16 / 100);
  assert.equal(boxIou([0, 0, 10, 10], [10, 0, 10, 10]), 0); // touching edge: zero width overlap
  assert.equal(boxIou([0, 0, 10, 10], [20, 20, 5, 5]), 0);
  assert.equal(boxIou([0, 0, 0, 10], [0, 0, 10, 10]), 0); // empty box
});

test('against a crowd box the union is the detection area', () => {
  assert.equal(boxIou([0, 0, 10, 10], [5, 5, 10, 10], true), 25 / 100);
  assert.equal(boxIou([2, 2, 4, 4], [0, 0, 100, 100], true), 1); // inside a big crowd region
});

test('matrix layout is [D, G] with per-gt crowd flags', () => {
  const dt = Float64Array.from([0, 0, 10, 10, 2, 2, 4, 4]);
  const gt = Float64Array.from([5, 5, 10, 10, 0, 0, 10, 10]);
  const m = boxIouMatrix(dt, [0, 1], 2, gt, [0, 1], 2, Uint8Array.of(0, 1));
  // dt1 = [2, 2, 4, 4] overlaps gt0 on [5, 6] x [5, 6]: 1 / (16 + 100 - 1); gt1 is a crowd box around it.
  assert.deepEqual(Array.from(m), [25 / 175, 100 / 100, 1 / 115, 16 / 16]);
});
