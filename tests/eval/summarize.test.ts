// Averages over slices, -1 conventions, and numpy's summation order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanDefined, meanOverSlice, numpySum, pairwiseSum } from '../../src/eval/summarize.ts';

test('mean of the defined (> -1) values; -1 when there are none', () => {
  assert.equal(meanDefined([-1, 0.5, 1, -1]), 0.75);
  assert.equal(meanDefined([0, 0, -1]), 0);
  assert.equal(meanDefined([-1, -1]), -1);
  assert.equal(meanDefined([]), -1);
});

test('pairwise summation: 8 accumulators, exact on values that sum without rounding', () => {
  const a = Array.from({ length: 300 }, (_, i) => i);
  assert.equal(pairwiseSum(a, 0, 300), 299 * 300 / 2);
  assert.equal(numpySum(new Float64Array(20000).fill(0.5)), 10000);
  // [1, t x 8] with t = 2^-53 (half an ulp of 1). One by one, every t is lost: 1.
  // numpy: r = [1, t, t, t, t, t, t, t]; ((1 + t) + 2t) + (2t + 2t) = (1 + 2^-52) + 2^-51 = 1 + 3 ulp;
  // then the 9th value: 1 + 3.5 ulp rounds to even, 1 + 4 ulp = 1 + 2^-50.
  const t = 2 ** -53;
  const v = [1, t, t, t, t, t, t, t, t];
  assert.equal(v.reduce((s, x) => s + x, 0), 1);
  assert.equal(pairwiseSum(v, 0, 9), 1 + 2 ** -50);
});

test('slices are gathered in C order over the selected indices', () => {
  // data[i, j] = 10 i + j for a 3 x 4 array; select rows [0, 2], columns [1, 3] -> 1, 3, 21, 23.
  const data = Float64Array.from({ length: 12 }, (_, k) => 10 * Math.floor(k / 4) + (k % 4));
  assert.equal(meanOverSlice(data, [3, 4], [[0, 2], [1, 3]]), (1 + 3 + 21 + 23) / 4);
  assert.equal(meanOverSlice(data, [3, 4], [[1], []]), -1);
  const withUndefined = Float64Array.from([-1, 0.5, -1, 1]);
  assert.equal(meanOverSlice(withUndefined, [2, 2], [[0, 1], [0, 1]]), 0.75);
});
