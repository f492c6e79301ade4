// Protocol rules on tiny hand-made datasets whose AP can be worked out by hand.
// With one category, AP = mean over IoUs of the 101-point precision; a perfect ranking gives 1/(1 + eps) ~ 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateCoco } from '../../src/eval/cocoEval.ts';
import { evaluateLvis, topPerGroup } from '../../src/eval/lvisEval.ts';
import { evaluateLvisFixed } from '../../src/eval/fixedAp.ts';
import type { CocoAnnotation, CocoDataset, CocoResult } from '../../src/eval/types.ts';

const close = (a: number | undefined, b: number, what: string): void => assert.ok(Math.abs(a! - b) < 1e-12, `${what}: ${a} vs ${b}`);
let nextId = 1;
const ann = (image_id: number, category_id: number, bbox: number[], extra: Partial<CocoAnnotation> = {}): CocoAnnotation =>
  ({ id: nextId++, image_id, category_id, bbox, area: bbox[2]! * bbox[3]!, iscrowd: 0, ...extra });
const det = (image_id: number, category_id: number, bbox: number[], score: number): CocoResult => ({ image_id, category_id, bbox, score });

function lvisGt(anns: CocoAnnotation[], neg: Record<number, number[]> = {}, notEx: Record<number, number[]> = {}): CocoDataset {
  return {
    images: [1, 2].map((id) => ({ id, neg_category_ids: neg[id] ?? [], not_exhaustive_category_ids: notEx[id] ?? [] })),
    categories: [{ id: 1, name: 'one', frequency: 'f' }, { id: 2, name: 'two', frequency: 'c' }, { id: 3, name: 'three', frequency: 'r' }],
    annotations: anns,
  };
}

const B = [0, 0, 40, 40]; // medium (area 1600)
const FAR = [200, 200, 40, 40];

test('LVIS: a detection on a category neither present nor negative in its image is dropped', () => {
  const gt = (neg: number[]) => lvisGt([ann(1, 1, B), ann(2, 2, B)], { 1: neg });
  const dts = [det(1, 1, B, 0.5), det(1, 2, FAR, 0.9), det(2, 2, B, 0.8)];
  // Unverified on image 1: category 2's stray detection does not count.
  close(evaluateLvis(gt([]), dts, { perCategory: true }).perCategory!.two, 1, 'dropped');
  // Verified absent: it is a false positive ranked first -> precision 1/2 at full recall.
  close(evaluateLvis(gt([2]), dts, { perCategory: true }).perCategory!.two, 0.5, 'negative');
});

test('LVIS: unmatched detections on a not-exhaustively annotated category are ignored', () => {
  const dts = [det(2, 2, FAR, 0.9), det(2, 2, B, 0.8)];
  close(evaluateLvis(lvisGt([ann(2, 2, B)], {}, { 2: [2] }), dts, { perCategory: true }).perCategory!.two, 1, 'ignored');
  close(evaluateLvis(lvisGt([ann(2, 2, B)]), dts, { perCategory: true }).perCategory!.two, 0.5, 'counted');
});

test('LVIS: frequency groups, -1 for a group without ground truth, AR key named by the cap', () => {
  const r = evaluateLvis(lvisGt([ann(1, 1, B), ann(2, 2, B)]), [det(1, 1, B, 0.5), det(2, 2, FAR, 0.4)]);
  close(r.stats.APf, 1, 'APf');
  close(r.stats.APc, 0, 'APc');
  assert.equal(r.stats.APr, -1);
  close(r.stats.AP, 0.5, 'AP');
  assert.equal(r.stats.APs, -1); // no small ground truth
  close(r.stats['AR@300'], 0.5, 'AR@300');
  assert.deepEqual(Object.keys(evaluateLvis(lvisGt([]), [], { maxDets: 50 }).stats).slice(9), ['AR@50', 'ARs@50', 'ARm@50', 'ARl@50']);
});

test('LVIS: the per-image cap keeps the highest scores before the federated filter', () => {
  // Image 1 has a high-scoring detection on an unverified category: with maxDets 1 it takes the only slot.
  const gt = lvisGt([ann(1, 1, B)]);
  const dts = [det(1, 1, B, 0.5), det(1, 3, FAR, 0.9)];
  close(evaluateLvis(gt, dts, { maxDets: 2 }).stats.AP, 1, 'room for both');
  close(evaluateLvis(gt, dts, { maxDets: 1 }).stats.AP, 0, 'TP capped away');
});

test('LVIS: annotations need area > 0 (a zero-area annotation neither counts nor makes its category present)', () => {
  const gt = lvisGt([ann(1, 1, B), ann(2, 1, B, { area: 0 })]);
  const r = evaluateLvis(gt, [det(1, 1, B, 0.5), det(2, 1, B, 0.9)]);
  close(r.stats.AP, 1, 'image 2 detection dropped, single gt found');
});

test('fixed AP: top K per category over the dataset, no per-image cap', () => {
  const gt = lvisGt([ann(1, 1, B), ann(2, 1, B)]);
  const dts = [det(1, 1, B, 0.9), det(2, 1, B, 0.8)];
  close(evaluateLvisFixed(gt, dts, { topPerCategory: 2 }).stats.AP, 1, 'K = 2');
  // K = 1: recall stops at 1/2, so precision 1 for the 51 recall points 0 .. 0.5 and 0 after.
  const r = evaluateLvisFixed(gt, dts, { topPerCategory: 1 });
  close(r.stats.AP, 51 / 101, 'K = 1');
  close(r.stats['AR@-1'], 0.5, 'AR@-1');
});

test('top-K keeps equal scores in list order and returns indices in list order', () => {
  const group = Int32Array.from([0, 1, 0, 0, 1]);
  const score = Float64Array.from([0.5, 0.7, 0.9, 0.5, 0.7]);
  assert.deepEqual(Array.from(topPerGroup(group, score, 5, 2, 2)), [0, 1, 2, 4]);
  assert.deepEqual(Array.from(topPerGroup(group, score, 5, 2, 1)), [1, 2]);
  assert.deepEqual(Array.from(topPerGroup(group, score, 5, 2, 1, Int32Array.from([3, 4]))), [3, 4]);
});

const cocoGt = (anns: CocoAnnotation[]): CocoDataset => ({
  images: [{ id: 1 }, { id: 2 }], categories: [{ id: 1, name: 'one' }, { id: 2, name: 'two' }], annotations: anns,
});

test('COCO: a detection on a crowd region is ignored, not a false positive; crowd gts are not counted', () => {
  const gt = cocoGt([ann(1, 1, B), ann(1, 1, [100, 100, 200, 200], { iscrowd: 1 })]);
  const dts = [det(1, 1, [110, 110, 20, 20], 0.9), det(1, 1, [150, 150, 20, 20], 0.8), det(1, 1, B, 0.5)];
  const r = evaluateCoco(gt, dts);
  close(r.stats.AP, 1, 'AP');
  close(r.stats.AR100, 1, 'AR100');
});

test('COCO: the annotation area, not w*h, picks the area range', () => {
  // A 10 x 10 box whose area says 2000 (a medium object): APs is undefined, APm is 1.
  const r = evaluateCoco(cocoGt([ann(1, 1, [0, 0, 10, 10], { area: 2000 })]), [det(1, 1, [0, 0, 10, 10], 0.9)]);
  assert.equal(r.stats.APs, -1);
  close(r.stats.APm, 1, 'APm');
  assert.equal(r.stats.APl, -1);
});

test('COCO: maxDets caps detections per image and category (AR1 vs AR10)', () => {
  const gt = cocoGt([ann(1, 1, B), ann(1, 1, FAR)]);
  const r = evaluateCoco(gt, [det(1, 1, B, 0.9), det(1, 1, FAR, 0.8)]);
  close(r.stats.AR1, 0.5, 'AR1');
  close(r.stats.AR10, 1, 'AR10');
  assert.deepEqual(Object.keys(evaluateCoco(gt, [], { maxDets: [1, 10, 300] }).stats).slice(6, 9), ['AR1', 'AR10', 'AR300']);
});

test('COCO: no detections gives 0 where ground truth exists, -1 elsewhere', () => {
  const r = evaluateCoco(cocoGt([ann(1, 1, B)]), [], { perCategory: true });
  assert.equal(r.stats.AP, 0);
  assert.equal(r.stats.APs, -1);
  assert.deepEqual(r.perCategory, { one: 0, two: -1 });
});

test('COCO: equal scores rank in list order (stable), which decides the curve', () => {
  // Two equal-score detections for one gt: a FP listed first ranks first, so precision at recall 1 is 1/2.
  const gt = cocoGt([ann(1, 1, B)]);
  close(evaluateCoco(gt, [det(1, 1, FAR, 0.5), det(1, 1, B, 0.5)]).stats.AP, 0.5, 'FP first');
  close(evaluateCoco(gt, [det(1, 1, B, 0.5), det(1, 1, FAR, 0.5)]).stats.AP, 1, 'TP first');
  // Across images: the lower image id ranks first among equal scores.
  const gt2 = cocoGt([ann(2, 1, B)]);
  close(evaluateCoco(gt2, [det(2, 1, B, 0.5), det(1, 1, FAR, 0.5)]).stats.AP, 0.5, 'image 1 first');
});
