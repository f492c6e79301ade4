import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collate } from '../../src/data/collate.ts';
import type { LoadedImage } from '../../src/data/imageOps.ts';
import type { Sample } from '../../src/data/types.ts';

function image(h: number, w: number, fill: number, boxes: number[], kept: number[]): LoadedImage {
  return { pixels: new Float32Array(h * w * 3).fill(fill), width: w, height: h, srcW: w, srcH: h, boxes: Float32Array.from(boxes), kept: Int32Array.from(kept), dropped: 0, sizeMismatch: false };
}

const sample = (concepts: string[], numPositive: number, boxConcepts: number[]): Sample => ({
  kind: 'detection', source: 'f.json', record: 'r', image: 'x.png', boxes: boxConcepts.map(() => [0, 0, 1, 1]), boxConcepts, concepts, numPositive,
});

test('collate: padding to a multiple of padDivisor, batch-level concept dedup, box labels through kept boxes', () => {
  const s1 = sample(['cat', 'dog', 'car', 'tree'], 2, [0, 1, 0]);
  const s2 = sample(['dog', 'bus', 'cat'], 1, [0]);
  // Image 1 kept boxes 0 and 2 (box 1 was dropped by augmentation).
  const b = collate('detection', [s1, s2], [image(3, 2, 1, [0, 0, 1, 1, 1, 1, 2, 2], [0, 2]), image(2, 4, 2, [0, 0, 3, 1], [0])], { padDivisor: 4 });
  assert.deepEqual([b.height, b.width, b.pixels.length], [4, 4, 2 * 4 * 4 * 3]);
  assert.deepEqual(b.imageSizes, [[3, 2], [2, 4]]);
  const at = (n: number, y: number, x: number) => b.pixels[((n * 4 + y) * 4 + x) * 3];
  assert.deepEqual([at(0, 0, 0), at(0, 2, 1), at(0, 2, 2), at(0, 3, 0)], [1, 1, 0, 0]);
  assert.deepEqual([at(1, 1, 3), at(1, 2, 0)], [2, 0]);
  assert.deepEqual(b.concepts, ['cat', 'dog', 'car', 'tree', 'bus']);
  assert.deepEqual(b.imageConcepts, [[0, 1, 2, 3], [1, 4, 0]]);
  assert.deepEqual(b.positiveConcepts, [[0, 1], [1]]);
  assert.deepEqual(b.boxLabels.map((l) => Array.from(l)), [[0, 0], [1]]);
  assert.deepEqual(b.boxes.map((x) => Array.from(x)), [[0, 0, 1, 1, 1, 1, 2, 2], [0, 0, 3, 1]]);
  assert.deepEqual(b.records, ['f.json#r', 'f.json#r']);
  // A fixed pad size (square mode).
  assert.deepEqual([collate('detection', [s2], [image(2, 4, 2, [0, 0, 3, 1], [0])], { padTo: [8, 8] }).height], [8]);
  assert.throws(() => collate('detection', [s2], [image(9, 4, 2, [], [])], { padTo: [8, 8] }), /exceeds/);
});
