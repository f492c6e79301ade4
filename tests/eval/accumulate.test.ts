// One precision/recall curve, hand-computed, and the threshold grids as numpy prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { curve, curves, FALSE_POSITIVE as F, IGNORED as X, TRUE_POSITIVE as P } from '../../src/eval/accumulate.ts';
import { IOU_THRESHOLDS, RECALL_THRESHOLDS, iouIndex } from '../../src/eval/params.ts';

const EPS = 2.220446049250313e-16;
const ap101 = (q: Float64Array): number => q.reduce((s, v) => s + v, 0) / q.length;

test('recall points and IoU thresholds equal numpy.linspace bit for bit', () => {
  // Printed by numpy: np.linspace(0, 1, 101) and np.linspace(.5, .95, 10).
  const numpy = '0.0,0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1,0.11,0.12,0.13,0.14,0.15,0.16,0.17,0.18,0.19,0.2,0.21,0.22,0.23,0.24,0.25,0.26,0.27,0.28,0.29,0.3,0.31,0.32,0.33,0.34,0.35000000000000003,0.36,0.37,0.38,0.39,0.4,0.41000000000000003,0.42,0.43,0.44,0.45,0.46,0.47000000000000003,0.48,0.49,0.5,0.51,0.52,0.53,0.54,0.55,0.56,0.5700000000000001,0.58,0.59,0.6,0.61,0.62,0.63,0.64,0.65,0.66,0.67,0.68,0.6900000000000001,0.7000000000000001,0.71,0.72,0.73,0.74,0.75,0.76,0.77,0.78,0.79,0.8,0.81,0.8200000000000001,0.8300000000000001,0.84,0.85,0.86,0.87,0.88,0.89,0.9,0.91,0.92,0.93,0.9400000000000001,0.9500000000000001,0.96,0.97,0.98,0.99,1.0';
  assert.deepEqual(Array.from(RECALL_THRESHOLDS), numpy.split(',').map(Number));
  assert.deepEqual(Array.from(IOU_THRESHOLDS), [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);
  assert.equal(iouIndex(0.5), 0);
  assert.equal(iouIndex(0.75), 5);
});

test('TP FP TP FP with 3 gts: interpolated precision read at 101 recall points', () => {
  // rc = [1/3, 1/3, 2/3, 2/3], pr = [1, 1/2, 2/3, 1/2] -> from the right [1, 2/3, 2/3, 1/2];
  // recall points <= 1/3 read rank 0 (1), points in (1/3, 2/3] read rank 2 (2/3), later ones are beyond: 0.
  const q = new Float64Array(101);
  const recall = curve([P, F, P, F], 3, RECALL_THRESHOLDS, q);
  assert.equal(recall, 2 / 3);
  const expected = Array.from({ length: 101 }, (_, r) => (r <= 33 ? 1 / (1 + EPS) : r <= 66 ? 2 / (3 + EPS) : 0));
  assert.deepEqual(Array.from(q), expected);
  assert.ok(Math.abs(ap101(q) - 56 / 101) < 1e-12);
});

test('ignored detections hold a rank but count as neither TP nor FP', () => {
  const a = new Float64Array(101), b = new Float64Array(101);
  curve([X, P, X, F, P], 2, RECALL_THRESHOLDS, a);
  curve([P, F, P], 2, RECALL_THRESHOLDS, b);
  assert.deepEqual(a, b);
  // Only ignored detections: recall 0 and precision 0 everywhere (not -1: there are detections and gts).
  const c = new Float64Array(101);
  assert.equal(curve([X, X], 4, RECALL_THRESHOLDS, c), 0);
  assert.ok(c.every((v) => v === 0));
});

test('no detections: recall 0, precision 0', () => {
  const q = new Float64Array(101).fill(7);
  assert.equal(curve([], 5, RECALL_THRESHOLDS, q), 0);
  assert.ok(q.every((v) => v === 0));
});

test('a later higher precision lifts the earlier recall points', () => {
  // F P P with 2 gts: pr = [0, 1/2, 2/3] -> [2/3, 2/3, 2/3]; rc = [0, 1/2, 1].
  const q = new Float64Array(101);
  assert.equal(curve([F, P, P], 2, RECALL_THRESHOLDS, q), 1);
  assert.ok(q.every((v) => Math.abs(v - 2 / 3) < 1e-12));
});

test('several thresholds at once over selected slots (the maxDets cap) of interleaved rows', () => {
  // Rows are slots [t0, t1]; slot 1 is left out (ranked too low in its image for this maxDets).
  const outcome = [P, P, F, F, P, X];
  const q = new Float64Array(2 * 101), rc = new Float64Array(2);
  curves(outcome, 2, 0, 2, [0, 2], 2, 2, RECALL_THRESHOLDS, q, rc);
  const t0 = new Float64Array(101), t1 = new Float64Array(101);
  const r0 = curve([P, P], 2, RECALL_THRESHOLDS, t0);
  const r1 = curve([P, X], 2, RECALL_THRESHOLDS, t1);
  assert.deepEqual(Array.from(rc), [r0, r1]);
  assert.deepEqual(Array.from(rc), [1, 0.5]);
  assert.deepEqual(q, Float64Array.from([...t0, ...t1]));
});
