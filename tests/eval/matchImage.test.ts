// Greedy matching for one image and category, on hand-made IoU matrices ([D, G] row-major).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchImage } from '../../src/eval/matchImage.ts';

const m = (rows: number[][]): Float64Array => Float64Array.from(rows.flat());

test('each gt is taken once, by the highest-scoring detection that reaches it', () => {
  // dt0 and dt1 both overlap gt0 best; dt0 comes first (higher score), dt1 falls back to gt1.
  const ious = m([[0.9, 0.6], [0.8, 0.7]]);
  assert.deepEqual(Array.from(matchImage(ious, 2, 2, [0, 0], null, [0.5])), [0, 1]);
  assert.deepEqual(Array.from(matchImage(ious, 2, 2, [0, 0], null, [0.75])), [0, -1]);
});

test('an IoU equal to the threshold matches; on equal IoU the later gt wins', () => {
  assert.deepEqual(Array.from(matchImage(m([[0.5]]), 1, 1, [0], null, [0.5])), [0]);
  assert.deepEqual(Array.from(matchImage(m([[0.6, 0.6]]), 1, 2, [0, 0], null, [0.5])), [1]);
});

test('regular gts come before ignored ones, and a regular match is never traded for an ignored gt', () => {
  // gt0 is ignored (e.g. outside the area range) with the higher IoU: dt0 still takes the regular gt1.
  assert.deepEqual(Array.from(matchImage(m([[0.9, 0.6]]), 1, 2, [1, 0], null, [0.5])), [1]);
  // With no regular gt above the threshold the detection may match the ignored one.
  assert.deepEqual(Array.from(matchImage(m([[0.9, 0.3]]), 1, 2, [1, 0], null, [0.5])), [0]);
});

test('a crowd gt can absorb several detections; a regular one cannot', () => {
  const ious = m([[0.8], [0.7], [0.6]]);
  assert.deepEqual(Array.from(matchImage(ious, 3, 1, [1], [1], [0.5])), [0, 0, 0]);
  assert.deepEqual(Array.from(matchImage(ious, 3, 1, [0], null, [0.5])), [0, -1, -1]);
});

test('results per threshold are laid out [T, D]', () => {
  const out = matchImage(m([[0.72]]), 1, 1, [0], null, [0.5, 0.7, 0.75]);
  assert.deepEqual(Array.from(out), [0, 0, -1]);
});
