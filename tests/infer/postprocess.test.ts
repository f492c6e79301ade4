import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postprocess } from '../../src/infer/postprocess.ts';

const logit = (p: number): number => Math.log(p / (1 - p));

test('postprocess: threshold, centerness factor, class-aware NMS, clipping and rescale (hand-computed)', () => {
  // 3 anchors x 2 concepts. Anchors 0 and 1 overlap heavily (IoU 0.81), anchor 2 is apart.
  const boxes = new Float32Array([0, 0, 10, 10, 1, 1, 10, 10, 20, -5, 40, 15]);
  const logits = new Float32Array([logit(0.9), logit(0.01), logit(0.8), logit(0.7), logit(0.04), logit(0.6)]);
  const centerness = new Float32Array([0, logit(0.5), logit(0.25)]); // sigmoid: 0.5, 0.5, 0.25
  const dets = postprocess(logits, 2, centerness, boxes, [12, 30], [2, 0.5], { nmsThreshold: 0.6 });
  // candidates (p > 0.05): a0c0 0.9*0.5=0.45, a1c0 0.8*0.5=0.4 (suppressed by a0c0, same class),
  // a1c1 0.7*0.5=0.35 (other class: kept), a2c1 0.6*0.25=0.15; a2c0 (0.04) and a0c1 (0.01) are below threshold.
  assert.equal(dets.length, 3);
  assert.deepEqual(dets.map((d) => d.label), [0, 1, 1]);
  assert.deepEqual(dets.map((d) => +d.score.toFixed(6)), [0.45, 0.35, 0.15]);
  // anchor 2 clipped to [20, 0, 30, 12] then scaled x*0.5, y*2
  assert.deepEqual(dets[2]!.box, [10, 0, 15, 24]);
  assert.deepEqual(dets[0]!.box, [0, 0, 5, 20]);
});

test('postprocess: maxDetections and no candidates', () => {
  const boxes = new Float32Array([0, 0, 1, 1, 5, 5, 6, 6]);
  const c = new Float32Array([0, 0]);
  assert.equal(postprocess(new Float32Array([5, 5]), 1, c, boxes, [10, 10], [1, 1], { maxDetections: 1 }).length, 1);
  assert.equal(postprocess(new Float32Array([-9, -9]), 1, c, boxes, [10, 10], [1, 1]).length, 0);
  assert.throws(() => postprocess(new Float32Array(3), 1, c, boxes, [10, 10], [1, 1]), /expected 2x1/);
});
