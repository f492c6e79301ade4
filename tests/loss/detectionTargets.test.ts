import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import {
  anchorCenters, buildDetectionTargets, centernessTarget, classificationTargetTensor, localizationTargetTensors,
  targetsFromAssignment,
} from '../../src/loss/detectionTargets.ts';
import { atssAssign, makeAnchors } from '../../src/loss/atssAssign.ts';

before(async () => { await setupBackend(); });

test('centernessTarget: sqrt(min(l,r)/max(l,r) · min(t,b)/max(t,b)), 1 at the centre, 0 on or outside an edge', () => {
  // (5,5) in [0,0,20,10]: l 5, r 15, t 5, b 5 -> sqrt(1/3)
  assertClose([centernessTarget(5, 5, 0, 0, 20, 10)], [Math.sqrt(1 / 3)], { rtol: 1e-12, atol: 0 });
  assert.equal(centernessTarget(10, 5, 0, 0, 20, 10), 1);
  assert.equal(centernessTarget(0, 5, 0, 0, 20, 10), 0);
  assert.equal(centernessTarget(-3, 5, 0, 0, 20, 10), 0);
});

test('targetsFromAssignment: one-hot concept rows, positives, gt boxes and centerness by hand', () => {
  // K = 3 anchors, M = 2 concepts, gt0 [0,0,20,10] concept 1, gt1 [10,10,30,30] concept 0; anchors 0 -> gt0, 2 -> gt1.
  const anchorBoxes = Float32Array.from([0, 0, 10, 10, 40, 40, 60, 60, 15, 17, 25, 27]);
  const points = Float32Array.from([5, 5, 50, 50, 20, 22]);
  const gt = Float32Array.from([0, 0, 20, 10, 10, 10, 30, 30]);
  const t = targetsFromAssignment(Int32Array.from([0, -1, 1]), anchorBoxes, points, gt, Int32Array.from([1, 0]), 2, true);
  assert.deepEqual([...t.classification], [0, 1, 0, 0, 1, 0]);
  assert.deepEqual([...t.positive], [1, 0, 1]);
  assert.equal(t.numPositive, 2);
  assert.deepEqual([...t.boxes!], [0, 0, 20, 10, 40, 40, 60, 60, 10, 10, 30, 30]); // negatives keep their anchor
  // anchor 2 at (20,22) in gt1: l 10, r 10, t 12, b 8 -> sqrt(8/12)
  assertClose(t.centerness!, [Math.sqrt(1 / 3), 0, Math.sqrt(2 / 3)], { rtol: 1e-6, atol: 0 });
  const g = targetsFromAssignment(Int32Array.from([0, -1, 1]), anchorBoxes, points, gt, Int32Array.from([1, 0]), 2, false);
  assert.equal(g.boxes, undefined);
  assert.equal(g.centerness, undefined);
  assert.throws(() => targetsFromAssignment(Int32Array.from([0, -1, 1]), anchorBoxes, points, gt, Int32Array.from([1, 2]), 2, true), /concept 2/);
  assert.throws(() => targetsFromAssignment(Int32Array.from([0, -1, 2]), anchorBoxes, points, gt, Int32Array.from([1, 0]), 2, true), /gt 2 of 2/);
});

function smallBatch() {
  const anchors = makeAnchors([[8, 8], [4, 4]], [8, 16], 2); // 64x64 image, K = 80, sides 16 / 32
  const batchBoxes = [Float32Array.from([4, 6, 28, 30, 30, 20, 62, 50]), new Float32Array(0), Float32Array.from([10, 40, 26, 60])];
  const batchBoxLabels = [Int32Array.from([2, 0]), new Int32Array(0), Int32Array.from([1])];
  return { anchors, batchBoxes, batchBoxLabels };
}

test('buildDetectionTargets follows atssAssign per image; an image without boxes has no positives', () => {
  const { anchors, batchBoxes, batchBoxLabels } = smallBatch();
  const t = buildDetectionTargets({ anchors, points: anchors.points, batchBoxes, batchBoxLabels, numConcepts: 3, withLocalization: true });
  assert.equal(t.numAnchors, 80);
  assert.equal(t.images.length, 3);
  let total = 0;
  t.images.forEach((im, i) => {
    const ref = batchBoxes[i]!.length ? atssAssign(anchors, batchBoxes[i]!).assigned : new Int32Array(80).fill(-1);
    assert.deepEqual([...im.assigned], [...ref], `image ${i} assignment`);
    for (let k = 0; k < 80; k++) {
      const g = ref[k]!;
      const row = [...im.classification.subarray(3 * k, 3 * k + 3)];
      assert.deepEqual(row, [0, 1, 2].map((c) => (g >= 0 && batchBoxLabels[i]![g] === c ? 1 : 0)));
      if (g >= 0) {
        const b = batchBoxes[i]!.subarray(4 * g, 4 * g + 4);
        assert.deepEqual([...im.boxes!.subarray(4 * k, 4 * k + 4)], [...b]);
        assert.ok(im.centerness![k]! > 0 && im.centerness![k]! <= 1);
      } else assert.equal(im.centerness![k], 0);
    }
    total += im.numPositive;
  });
  assert.ok(t.images[0]!.numPositive >= 2 && t.images[2]!.numPositive >= 1, 'every gt gets positives');
  assert.equal(t.images[1]!.numPositive, 0);
  assert.equal(t.numPositive, total);
  // points default to the anchor centres
  const t2 = buildDetectionTargets({ anchors, batchBoxes, batchBoxLabels, numConcepts: 3, withLocalization: true });
  assert.deepEqual([...t2.images[0]!.centerness!], [...t.images[0]!.centerness!]);
  assert.deepEqual([...anchorCenters(Float32Array.from([0, 0, 4, 2]))], [2, 1]);
});

test('target tensors: shapes, masks, centerness sum; no leaks', async () => {
  const { anchors, batchBoxes, batchBoxLabels } = smallBatch();
  const t = buildDetectionTargets({ anchors, batchBoxes, batchBoxLabels, numConcepts: 3, withLocalization: true });
  await expectNoLeak(() => tf.tidy(() => {
    const cls = classificationTargetTensor(t);
    assert.deepEqual(cls.shape, [3, 80, 3]);
    assert.equal(cls.sum().arraySync(), t.numPositive);
    const loc = localizationTargetTensors(t);
    assert.deepEqual(loc.boxes.shape, [3, 80, 4]);
    assert.equal(loc.positiveBoxMask.dtype, 'bool');
    assert.equal(tf.sum(tf.cast(loc.positiveBoxMask, 'int32')).arraySync(), 4 * t.numPositive);
    assert.equal(loc.positiveWeight.sum().arraySync(), t.numPositive);
    const cs = t.images.reduce((a, im) => a + im.centerness!.reduce((x, y) => x + y, 0), 0);
    assertClose([loc.centernessSum], [cs], { rtol: 1e-6, atol: 0 });
  }));
  await expectNoLeak(() => {
    const loc = localizationTargetTensors(t);
    tf.dispose([classificationTargetTensor(t), loc.boxes, loc.positiveBoxMask, loc.positiveWeight, loc.centerness]);
  });
  const grounding = buildDetectionTargets({ anchors, batchBoxes, batchBoxLabels, numConcepts: 3, withLocalization: false });
  assert.throws(() => localizationTargetTensors(grounding), /without localisation/);
});
