import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeAndPad, resizeTarget } from '../../src/infer/letterbox.ts';
import { DEFAULT_NORMALIZATION } from '../../src/infer/settings.ts';
import { IMAGENET_NORM, normalizeRgb } from '../../src/data/imageOps.ts';

test('normalizeAndPad: (v/255 - mean)/std per channel, zero padding bottom/right, RGBA alpha ignored (hand-computed)', () => {
  const norm = { mean: [0.5, 0.25, 0] as [number, number, number], std: [0.5, 0.25, 1] as [number, number, number] };
  // 2 x 1 image: (255, 0, 51) and (0, 255, 255)
  const rgb = [255, 0, 51, 0, 255, 255];
  const p = normalizeAndPad(rgb, 2, 1, 3, { width: 20, height: 10 }, 4, norm);
  assert.deepEqual([p.width, p.height, p.validW, p.validH, p.srcW, p.srcH], [4, 4, 2, 1, 20, 10]);
  assert.equal(p.pixels.length, 4 * 4 * 3);
  // (1 - 0.5)/0.5 = 1, (0 - 0.25)/0.25 = -1, 0.2/1 = 0.2; then -1, 3, 1
  assert.deepEqual(Array.from(p.pixels.slice(0, 6), (v) => +v.toFixed(6)), [1, -1, 0.2, -1, 3, 1]);
  assert.ok(p.pixels.slice(6).every((v) => v === 0), 'padding is zero');
  const rgba = [255, 0, 51, 7, 0, 255, 255, 9];
  assert.deepEqual(normalizeAndPad(rgba, 2, 1, 4, { width: 2, height: 1 }, 4, norm).pixels, p.pixels);
  assert.throws(() => normalizeAndPad(rgb, 2, 2, 3, { width: 2, height: 2 }), /6 values, expected 2x2x3/);
});

test('normalizeAndPad matches the training normalisation (normalizeRgb, ImageNet statistics) bit for bit', () => {
  assert.deepEqual(DEFAULT_NORMALIZATION, IMAGENET_NORM);
  const rgb = Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 37) % 256);
  assert.deepEqual(normalizeAndPad(rgb, 32, 32, 3, { width: 32, height: 32 }).pixels, normalizeRgb(rgb));
});

test('resizeTarget: square stretches; shortSide keeps the aspect ratio within max (hand-computed)', () => {
  assert.deepEqual(resizeTarget(640, 480, { mode: 'square', size: 128 }), { width: 128, height: 128 });
  // 800 / 480 = 1.667 -> 1067 x 800; long side within 1333
  assert.deepEqual(resizeTarget(640, 480, { mode: 'shortSide', short: 800, max: 1333 }), { width: 1067, height: 800 });
  // a panorama: the long side caps the scale: 1333 / 2000 -> 1333 x 333
  assert.deepEqual(resizeTarget(2000, 500, { mode: 'shortSide', short: 800, max: 1333 }), { width: 1333, height: 333 });
});
