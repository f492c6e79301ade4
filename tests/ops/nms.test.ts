import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixtureJson, f32 } from '../helpers/golden.ts';
import { batchedNms, nms, stableDescendingOrder, topK } from '../../src/ops/nms.ts';

const fx = loadFixtureJson('golden/nms.json');
const sets = Object.entries(fx.sets as Record<string, any>);

describe('nms / batchedNms (torchvision nms.json)', () => {
  it('has the three documented sets', () => {
    assert.equal(sets.length, 3);
    assert.deepEqual(sets.map(([, s]) => s.nms_keep.data.length), [26, 78, 135]);
    assert.deepEqual(sets.map(([, s]) => s.batched_nms_keep.data.length), [95, 148, 177]);
  });

  for (const [name, s] of sets) {
    it(`set ${name} (thr ${s.iou_threshold}): keep indices exact`, () => {
      const boxes = f32(s.boxes).data;
      const scores = f32(s.scores).data;
      const classes = Int32Array.from(s.class_idxs.data);
      assert.deepEqual([...nms(boxes, scores, s.iou_threshold)], s.nms_keep.data);
      assert.deepEqual([...batchedNms(boxes, scores, classes, s.iou_threshold)], s.batched_nms_keep.data);
      // every duplicate pair: the lower-scored copy is suppressed
      const kept = new Set(nms(boxes, scores, s.iou_threshold));
      for (const d of s.duplicate_pairs) {
        const lower = d.pair[0] === d.higher_score ? d.pair[1] : d.pair[0];
        assert.ok(!kept.has(lower), `duplicate ${lower} kept`);
      }
    });
  }

  it('tie_case: stable order, lower index first among equal scores', () => {
    const t = fx.tie_case;
    const boxes = f32(t.boxes).data;
    const scores = f32(t.scores).data;
    assert.deepEqual([...stableDescendingOrder(scores)], t.stable_descending_order.data);
    assert.deepEqual([...nms(boxes, scores, t.iou_threshold)], t.nms_keep.data);
    assert.deepEqual([...batchedNms(boxes, scores, Int32Array.from(t.class_idxs.data), t.iou_threshold)], t.batched_nms_keep.data);
  });

  it('suppresses only STRICTLY greater IoU, and the threshold is compared as a double', () => {
    // [0,0,10,10] vs [5,0,15,10]: inter 50, union 150, IoU = fround(1/3) = 0.3333333432674408
    const boxes = new Float32Array([0, 0, 10, 10, 5, 0, 15, 10]);
    const scores = new Float32Array([0.9, 0.8]);
    const iou32 = Math.fround(1 / 3);
    assert.deepEqual([...nms(boxes, scores, iou32)], [0, 1]); // equal: kept
    assert.deepEqual([...nms(boxes, scores, 1 / 3)], [0]); // float32 1/3 > double 1/3: suppressed
    assert.deepEqual([...nms(boxes, scores, 0.34)], [0, 1]);
    assert.deepEqual([...batchedNms(boxes, scores, new Int32Array([0, 1]), 0)], [0, 1]); // other class
    assert.deepEqual([...nms(new Float32Array(0), new Float32Array(0), 0.5)], []);
    assert.throws(() => nms(boxes, new Float32Array(3), 0.5), /expected 4 \* 3/);
  });

  it('class ids may be any integers (negative, sparse)', () => {
    const boxes = new Float32Array([0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 11, 11]);
    const scores = new Float32Array([0.1, 0.4, 0.3, 0.2]);
    // classes: -7, 1000, -7, 1000: 1 (0.4) suppresses 3; 2 (0.3) suppresses 0
    assert.deepEqual([...batchedNms(boxes, scores, new Int32Array([-7, 1000, -7, 1000]), 0.5)], [1, 2]);
  });

  it('topK: k highest by decreasing score, ties by lower index', () => {
    const s = new Float32Array([0.5, 0.9, 0.1, 0.9, 0.5, 0.5, 0.3]);
    assert.deepEqual([...topK(s, 3)], [1, 3, 0]);
    assert.deepEqual([...topK(s, 4)], [1, 3, 0, 4]);
    assert.deepEqual([...topK(s, 1)], [1]);
    assert.deepEqual([...topK(s, 0)], []);
    assert.deepEqual([...topK(s, 99)], [1, 3, 0, 4, 5, 6, 2]);
    assert.deepEqual([...topK(new Float32Array([0.2, NaN, 0.7]), 2)], [1, 2]); // NaN first, like torch.sort
  });

  it('matches a plain all-pairs greedy loop on thousands of random boxes (sweep path), and is fast', () => {
    let x = 12345; // a local LCG so the test needs nothing else
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296;
    for (const [n, spread, thr] of [[3000, 800, 0.6], [2000, 300, 0.3], [1500, 200, 0]] as const) {
      const boxes = new Float32Array(4 * n);
      const scores = new Float32Array(n);
      const classes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const cx = rand() * spread, cy = rand() * spread, w = 1 + rand() * 150, h = 1 + rand() * 150;
        boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 4 * i);
        scores[i] = Math.floor(rand() * 500) / 500; // many equal scores on purpose
        classes[i] = Math.floor(rand() * 7);
      }
      const t0 = performance.now();
      const got = nms(boxes, scores, thr);
      const t1 = performance.now();
      const gotBatched = batchedNms(boxes, scores, classes, thr);
      const t2 = performance.now();
      assert.deepEqual([...got], naiveNms(boxes, scores, null, thr), `nms n=${n} thr=${thr}`);
      assert.deepEqual([...gotBatched], naiveNms(boxes, scores, classes, thr), `batchedNms n=${n} thr=${thr}`);
      console.log(`# n=${n} thr=${thr}: nms ${(t1 - t0).toFixed(1)} ms (${got.length} kept), batchedNms ${(t2 - t1).toFixed(1)} ms (${gotBatched.length} kept)`);
    }
  });
});

/** Independent reference: sort with a stable comparator, then test every pair (float32 IoU, strict >). */
function naiveNms(boxes: Float32Array, scores: Float32Array, classes: Int32Array | null, thr: number): number[] {
  const f = Math.fround;
  const order = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b);
  const area = (i: number) => f(f(boxes[4 * i + 2]! - boxes[4 * i]!) * f(boxes[4 * i + 3]! - boxes[4 * i + 1]!));
  const dead = new Set<number>();
  const keep: number[] = [];
  for (let p = 0; p < order.length; p++) {
    const i = order[p]!;
    if (dead.has(i)) continue;
    keep.push(i);
    for (let q = p + 1; q < order.length; q++) {
      const j = order[q]!;
      if (dead.has(j) || (classes && classes[i] !== classes[j])) continue;
      const w = Math.max(0, f(Math.min(boxes[4 * i + 2]!, boxes[4 * j + 2]!) - Math.max(boxes[4 * i]!, boxes[4 * j]!)));
      const h = Math.max(0, f(Math.min(boxes[4 * i + 3]!, boxes[4 * j + 3]!) - Math.max(boxes[4 * i + 1]!, boxes[4 * j + 1]!)));
      const inter = f(w * h);
      if (f(inter / f(f(area(i) + area(j)) - inter)) > thr) dead.add(j);
    }
  }
  return keep;
}
