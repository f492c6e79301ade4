import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOSS_CONFIG, LOSS_WEIGHTS_APPENDIX, parseLossConfig } from '../../src/loss/lossConfig.ts';

test('default loss config: paper main-text weights (α=2, β=1, λ=0.1), τ=0.5, smoothing 0.1, top-100, 1-to-1', () => {
  assert.deepEqual(DEFAULT_LOSS_CONFIG, {
    weights: { align: 1, giou: 2, center: 1, contrastive: 0.1 },
    focal: { alpha: 0.25, gamma: 2 },
    imageText: { tau: 0.5, labelSmoothing: 0.1, mode: '1to1', tauT: 0.1, symmetric: false, centerImages: false, topK: 100, nmsThreshold: 0.5 },
  });
  assert.deepEqual(LOSS_WEIGHTS_APPENDIX, { align: 1, giou: 1, center: 2, contrastive: 0.1 });
});

test('parseLossConfig fills missing fields and rejects unknown keys / bad values', () => {
  const c = parseLossConfig({ weights: { giou: 1, center: 2 }, imageText: { mode: '1toMany' } }, 'train.yaml');
  assert.deepEqual(c.weights, { align: 1, giou: 1, center: 2, contrastive: 0.1 });
  assert.equal(c.imageText.mode, '1toMany');
  assert.equal(c.imageText.tau, 0.5);
  assert.deepEqual(parseLossConfig(undefined, 'x'), DEFAULT_LOSS_CONFIG);
  assert.throws(() => parseLossConfig({ weights: { gio: 1 } }, 'train.yaml'), /train\.yaml: unknown key 'weights\.gio' \(did you mean 'giou'\?\)/);
  assert.throws(() => parseLossConfig({ imageText: { tau: 0 } }, 'x'), /imageText\.tau/);
  assert.throws(() => parseLossConfig({ imageText: { mode: 'max' } }, 'x'), /imageText\.mode/);
});
