// A rank's batch in global concept indices equals the matching rows of collate on the concatenated batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collate } from '../../../src/data/collate.ts';
import type { LoadedImage } from '../../../src/data/imageOps.ts';
import type { Sample } from '../../../src/data/types.ts';
import { checkShardsAgree, globalizeBatch, shardInfo } from '../../../src/train/distributed/globalBatch.ts';

function image(boxes: number[], kept: number[]): LoadedImage {
  return { pixels: new Float32Array(4 * 4 * 3), width: 4, height: 4, srcW: 4, srcH: 4, boxes: Float32Array.from(boxes), kept: Int32Array.from(kept), dropped: 0, sizeMismatch: false };
}
const sample = (concepts: string[], numPositive: number, boxConcepts: number[]): Sample => ({
  kind: 'detection', source: 'f.json', record: 'r', image: 'x.png', boxes: boxConcepts.map(() => [0, 0, 1, 1]), boxConcepts, concepts, numPositive,
});

test('globalizeBatch: the global concept list and every index equal collate on the concatenation', () => {
  const samples = [
    sample(['cat', 'dog', 'car'], 2, [0, 1]), sample(['bus', 'cat'], 1, [0]),     // rank 0
    sample(['tree', 'dog', 'bus'], 1, [0, 0]), sample(['car', 'sky', 'cat'], 2, [1]), sample(['sky'], 1, []), // rank 1
  ];
  const images = [image([0, 0, 1, 1, 1, 1, 2, 2], [0, 1]), image([0, 0, 1, 1], [0]), image([0, 0, 2, 2, 0, 0, 3, 3], [0, 1]), image([1, 1, 2, 2], [0]), image([], [])];
  const opts = { padTo: [4, 4] as [number, number] };
  const whole = { ...collate('detection', samples, images, opts), iteration: 7 };
  const local = [
    { ...collate('detection', samples.slice(0, 2), images.slice(0, 2), opts), iteration: 7 },
    { ...collate('detection', samples.slice(2), images.slice(2), opts), iteration: 7 },
  ];
  const shards = local.map(shardInfo);
  const views = local.map((b, r) => globalizeBatch(b, shards, r));
  assert.deepEqual(views.map((v) => [v.offset, v.total]), [[0, 5], [2, 5]]);
  for (const [r, v] of views.entries()) {
    const rows = r === 0 ? [0, 2] : [2, 5];
    assert.deepEqual(v.batch.concepts, whole.concepts);
    assert.deepEqual(v.texts, whole.imageConcepts);
    assert.deepEqual(v.batch.imageConcepts, whole.imageConcepts.slice(...rows));
    assert.deepEqual(v.batch.positiveConcepts, whole.positiveConcepts.slice(...rows));
    assert.deepEqual(v.batch.boxLabels.map((l) => [...l]), whole.boxLabels.slice(...rows).map((l) => [...l]));
    assert.equal(v.batch.pixels, local[r]!.pixels, 'pixels stay the rank\'s own');
  }
});

test('ranks holding different iterations or kinds are an error naming the rank', () => {
  const a = { kind: 'detection', iteration: 3, concepts: ['x'], imageConcepts: [[0]] };
  assert.doesNotThrow(() => checkShardsAgree([a, { ...a }]));
  assert.throws(() => checkShardsAgree([a, { ...a, iteration: 4 }]), /rank 1 holds iteration 4 \(detection\) but rank 0 holds iteration 3/);
  assert.throws(() => checkShardsAgree([a, a, { ...a, kind: 'imageText' }]), /rank 2 holds iteration 3 \(imageText\)/);
});
