import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/ops/rng.ts';
import { drawAugment, planAugment, transformBoxes } from '../../src/data/transforms.ts';

const still = { scale: 1, flip: false, cropU: 0, cropV: 0 };

test('shortSide resize: short side to `short`, long side capped by `max`; boxes scale, flip mirrors', () => {
  const plan = planAugment(200, 100, { mode: 'shortSide', short: 50, max: 80 }, still);
  // min(50/100, 80/200) = 0.4 -> 80 x 40
  assert.deepEqual([plan.resizeW, plan.resizeH, plan.outW, plan.outH], [80, 40, 80, 40]);
  assert.deepEqual(transformBoxes([[10, 20, 110, 70]], plan).boxes, [[4, 8, 44, 28]]);
  const flipped = planAugment(200, 100, { mode: 'shortSide', short: 50, max: 80 }, { ...still, flip: true });
  assert.deepEqual(transformBoxes([[10, 20, 110, 70]], flipped).boxes, [[36, 8, 76, 28]]);
  // Scale jitter multiplies both limits: 0.5 -> short 25, max 40 -> 40 x 20.
  const small = planAugment(200, 100, { mode: 'shortSide', short: 50, max: 80 }, { ...still, scale: 0.5 });
  assert.deepEqual([small.outW, small.outH], [40, 20]);
});

test('square: stretch to size x size; boxes scale per axis; annotation frame may differ from the image', () => {
  const plan = planAugment(64, 32, { mode: 'square', size: 128 }, still);
  assert.deepEqual([plan.resizeW, plan.resizeH, plan.outW, plan.outH], [128, 128, 128, 128]);
  assert.deepEqual(transformBoxes([[8, 4, 16, 8]], plan).boxes, [[16, 16, 32, 32]]);
  // Boxes annotated for a 32 x 16 version of the image: frame scale 4 x 8.
  assert.deepEqual(transformBoxes([[8, 4, 16, 8]], plan, 1, 32, 16).boxes, [[32, 32, 64, 64]]);
});

test('square with scale jitter > 1: random crop, clipping, degenerate boxes dropped and counted', () => {
  const plan = planAugment(100, 100, { mode: 'square', size: 100 }, { scale: 1.5, flip: false, cropU: 0.5, cropV: 0 });
  // target 150, crop offset floor(0.5 * 51) = 25 in x, 0 in y
  assert.deepEqual([plan.resizeW, plan.cropX, plan.cropY, plan.outW, plan.outH], [150, 25, 0, 100, 100]);
  const r = transformBoxes([[0, 0, 20, 20], [10, 10, 14, 90], [60, 60, 80, 80]], plan);
  assert.deepEqual(r.boxes, [[0, 0, 5, 30], [65, 90, 95, 100]]);
  assert.deepEqual(r.kept, [0, 2]);
  assert.equal(r.dropped, 1);
  // minSize drops thin survivors too.
  assert.equal(transformBoxes([[0, 0, 20, 20]], plan, 6).dropped, 1);
  // Scale < 1: no crop, smaller valid region (the batch pads the rest).
  const small = planAugment(100, 100, { mode: 'square', size: 100 }, { ...still, scale: 0.5 });
  assert.deepEqual([small.resizeW, small.outW, small.cropX], [50, 50, 0]);
});

test('drawAugment: seeded, within the jitter range, flip rate follows flipProb', () => {
  const spec = { resize: { mode: 'square' as const, size: 64 }, scaleJitter: [0.8, 1.25] as [number, number], flipProb: 0.3 };
  const a = drawAugment(spec, new Rng(5));
  assert.deepEqual(a, drawAugment(spec, new Rng(5)));
  const rng = new Rng(1);
  let flips = 0;
  for (let i = 0; i < 2000; i++) {
    const d = drawAugment(spec, rng);
    assert.ok(d.scale >= 0.8 && d.scale < 1.25);
    if (d.flip) flips++;
  }
  assert.ok(Math.abs(flips / 2000 - 0.3) < 0.04, `flip rate ${flips / 2000}`);
});
