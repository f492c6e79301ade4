import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { atssAssign, makeAnchors, meanPlusStd } from '../../src/loss/atssAssign.ts';

/** mean + unbiased (n - 1) std, as torch's Tensor.std() default used by mmdetection. */
function thrOf(xs: number[]): number {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return mean + Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
}
const gt = (...b: number[]) => new Float32Array(b);
const closeTo = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('makeAnchors', () => {
  it('one square anchor per cell, centres at (x + 0.5) * stride, level-major then row-major', () => {
    const a = makeAnchors([[2, 3], [1, 1]], [8, 32], 8);
    assert.deepEqual(a.numPerLevel, [6, 1]);
    assert.equal(a.boxes.length, 28);
    // level 0, y = 1, x = 1 -> index 4: centre (12, 12), side 64
    assert.deepEqual([...a.points.subarray(8, 10)], [12, 12]);
    assert.deepEqual([...a.boxes.subarray(16, 20)], [-20, -20, 44, 44]);
    // level 0, y = 0, x = 2 -> index 2: centre (20, 4)
    assert.deepEqual([...a.points.subarray(4, 6)], [20, 4]);
    // level 1 -> index 6: centre (16, 16), side 256
    assert.deepEqual([...a.boxes.subarray(24, 28)], [-112, -112, 144, 144]);
    assert.deepEqual([...a.strides], [8, 8, 8, 8, 8, 8, 32]);
    const zero = makeAnchors([[2, 3]], [8], 1, 0); // mmdetection AnchorGenerator's center_offset = 0
    assert.deepEqual([...zero.points.subarray(8, 10)], [8, 8]);
    assert.throws(() => makeAnchors([[1, 1]], [8, 16]), /strides/);
  });
});

describe('atssAssign (hand-computed cases)', () => {
  it('2 levels, one gt: per-level top-k by centre distance, mean + unbiased std threshold, one positive', () => {
    // level 0: 4x4, stride 8, side 8 (centres 4, 12, 20, 28); level 1: 2x2, stride 16, side 16 (centres 8, 24)
    const anchors = makeAnchors([[4, 4], [2, 2]], [8, 16], 1);
    const g = gt(2, 2, 18, 14); // centre (10, 8), area 192
    // level 0 top-3: (12,4) #1 and (12,12) #5 at d^2 = 20, then (4,4) #0 and (4,12) #4 tie at 52 -> #0
    // level 1 top-3: (8,8) #16 d^2 4, (24,8) #17 196, (8,24) #18 260
    // IoUs: #1 [8,0,16,8] 48/208, #5 48/208, #0 [0,0,8,8] 36/220, #16 [0,0,16,16] 168/280,
    //       #17 [16,0,32,16] 24/424, #18 [0,16,16,32] 0
    const ious = [48 / 208, 48 / 208, 36 / 220, 168 / 280, 24 / 424, 0];
    const r = atssAssign(anchors, g, { topk: 3 });
    closeTo(r.iouThreshold[0]!, thrOf(ious), 'threshold'); // ~0.4247 (biased std would give ~0.4063)
    const expected = new Int32Array(20).fill(-1);
    expected[16] = 0; // only IoU 0.6 >= 0.4247, centre (8,8) inside the gt
    assert.deepEqual(r.assigned, expected);
    assert.equal(r.positives, 1);
  });

  it('distance ties at the top-k boundary go to the lower anchor index', () => {
    const anchors = makeAnchors([[4, 4]], [8], 1);
    const g = gt(-2, 4, 18, 12); // centre (8, 8), 20 x 8
    // 4 anchors at d^2 = 32 (#0, #1, #4, #5), IoU 32/192 = 1/6 each; then 4 tied at d^2 = 160:
    // #2 (20,4) and #6 (20,12) have IoU 8/216 = 1/27, #8 (4,20) and #9 (12,20) have IoU 0. topk 5 takes #2.
    const r = atssAssign(anchors, g, { topk: 5 });
    closeTo(r.iouThreshold[0]!, thrOf([1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 27]), 'threshold with #2');
    assert.ok(Math.abs(r.iouThreshold[0]! - thrOf([1 / 6, 1 / 6, 1 / 6, 1 / 6, 0])) > 1e-3);
    assert.equal(r.positives, 0); // 1/6 < threshold ~0.199
  });

  describe('anchor centre must lie inside the gt by more than 0.01', () => {
    // one level 1x3, stride 10, side 10: anchors [0,0,10,10], [10,0,20,10], [20,0,30,10]; default topk 9 -> all 3
    const anchors = makeAnchors([[1, 3]], [10], 1);
    it('centre well inside: positive', () => {
      // gt [5,0,25,10]: IoUs 50/250, 100/200, 50/250 -> threshold 0.3 + sqrt(0.03) ~ 0.473
      const r = atssAssign(anchors, gt(5, 0, 25, 10));
      closeTo(r.iouThreshold[0]!, 0.3 + Math.sqrt(0.03), 'threshold');
      assert.deepEqual([...r.assigned], [-1, 0, -1]);
    });
    it('centre on the gt edge (margin 0) or within 0.01: rejected; margin 0.02: accepted', () => {
      // gt [5,5,25,15]: #1 IoU 50/250 = 0.2 >= threshold ~0.190, but its centre y = 5 is on the top edge
      const onEdge = atssAssign(anchors, gt(5, 5, 25, 15));
      closeTo(onEdge.iouThreshold[0]!, thrOf([25 / 275, 50 / 250, 25 / 275]), 'threshold');
      assert.deepEqual([...onEdge.assigned], [-1, -1, -1]);
      assert.deepEqual([...atssAssign(anchors, gt(5, 4.995, 25, 15)).assigned], [-1, -1, -1]);
      assert.deepEqual([...atssAssign(anchors, gt(5, 4.98, 25, 15)).assigned], [-1, 0, -1]);
    });
  });

  describe('anchor positive for several gts', () => {
    const anchors = makeAnchors([[1, 3]], [10], 1);
    const A = [5, 0, 25, 10]; // #1 IoU 0.5
    const B = [10, 0, 20, 10]; // equals anchor #1: IoU 1, others 0 -> threshold 1/3 + sqrt(1/3)
    it('takes the gt of highest IoU', () => {
      const r = atssAssign(anchors, gt(...A, ...B));
      closeTo(r.iouThreshold[1]!, 1 / 3 + Math.sqrt(1 / 3), 'threshold B');
      assert.deepEqual([...r.assigned], [-1, 1, -1]);
      assert.equal(r.positives, 1);
      assert.deepEqual([...atssAssign(anchors, gt(...B, ...A)).assigned], [-1, 0, -1]);
    });
    it('equal IoUs: the lower gt index', () => {
      assert.deepEqual([...atssAssign(anchors, gt(...A, ...A)).assigned], [-1, 0, -1]);
    });
  });

  it('all candidate IoUs equal: threshold is exactly that IoU, so every candidate passes', () => {
    // 1x2 anchors [0,0,10,10], [10,0,20,10]; gt [4,0,16,10]: both IoU 60/160, centres 1 px inside
    const r = atssAssign(makeAnchors([[1, 2]], [10], 1), gt(4, 0, 16, 10));
    assert.equal(r.iouThreshold[0], 60 / 160);
    assert.deepEqual([...r.assigned], [0, 0]);
    assert.equal(r.positives, 2);
    // naive (0.1 + 0.1 + 0.1) / 3 = 0.10000000000000002 > 0.1 would reject all three
    assert.equal(meanPlusStd([0.1, 0.1, 0.1]), 0.1);
    closeTo(meanPlusStd([1, 2, 3, 4]), 2.5 + Math.sqrt(5 / 3), 'meanPlusStd');
    assert.equal(meanPlusStd([0.25]), 0.25); // single candidate: std 0 (torch: NaN)
  });

  it('empty gt / empty anchors: everything background; bad input throws', () => {
    const anchors = makeAnchors([[2, 2]], [8], 8);
    const r = atssAssign(anchors, new Float32Array(0));
    assert.deepEqual([...r.assigned], [-1, -1, -1, -1]);
    assert.equal(r.positives, 0);
    assert.equal(r.iouThreshold.length, 0);
    const none = atssAssign({ boxes: new Float32Array(0), numPerLevel: [0] }, gt(0, 0, 1, 1));
    assert.equal(none.assigned.length, 0);
    assert.throws(() => atssAssign({ boxes: anchors.boxes, numPerLevel: [3] }, gt(0, 0, 1, 1)), /numPerLevel/);
    assert.throws(() => atssAssign(anchors, gt(0, 0, 1)), /multiple of 4/);
  });

  it('runs fast at detector scale (5 levels of an 800x800 image, 50 gts)', () => {
    const sizes: [number, number][] = [[100, 100], [50, 50], [25, 25], [13, 13], [7, 7]];
    const anchors = makeAnchors(sizes, [8, 16, 32, 64, 128]);
    const g = new Float32Array(200);
    for (let i = 0; i < 50; i++) {
      const x = (i * 97) % 700, y = (i * 61) % 700, s = 20 + ((i * 37) % 300);
      g.set([x, y, x + s, y + s * 0.75], 4 * i);
    }
    const t0 = performance.now();
    const r = atssAssign(anchors, g);
    const ms = performance.now() - t0;
    assert.ok(r.positives > 50 && r.positives <= 50 * 45);
    console.log(`# atssAssign: ${anchors.numPerLevel.reduce((s, n) => s + n)} anchors x 50 gts in ${ms.toFixed(1)} ms, ${r.positives} positives`);
  });
});
