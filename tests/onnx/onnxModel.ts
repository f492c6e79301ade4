// Test models for the ONNX export: the tiny inference-test model with non-zero DCN offsets (so that the offset
// layout of DeformConv is exercised), saved as a model directory.
import * as tf from '@tensorflow/tfjs';
import { buildDetClip, saveModelDir } from '../../src/model/detclip.ts';
import { resolveModelConfig } from '../../src/config/model.ts';
import { TINY_OVERRIDES, tempDir } from '../infer/tinyModel.ts';

export { tempDir };

/**
 * A tiny random model dir (64 px square input) whose conv_offset weights are N(0, offsetStd²): sampling points
 * move by about a pixel; BN running statistics are random too. text/head merge into TINY_OVERRIDES' sections;
 * `inference` into the saved inference settings.
 */
export function makeOnnxTestModelDir(opts: { seed?: number; offsetStd?: number; text?: object; head?: object; backbone?: object; preset?: string; inference?: object } = {}): string {
  const dir = tempDir('detclip-onnx-model-');
  const over = {
    ...TINY_OVERRIDES, text: { ...TINY_OVERRIDES.text, ...opts.text }, head: { ...TINY_OVERRIDES.head, ...opts.head },
    ...(opts.backbone ? { backbone: opts.backbone } : {}),
  };
  const model = buildDetClip(resolveModelConfig(opts.preset ?? 'tiny', over), opts.seed ?? 1);
  for (const [name, v] of model.store.entries()) {
    if (name.includes('conv_offset')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, opts.offsetStd ?? 0.3, 'float32', 11)));
    // BN statistics away from (0, 1), so that folding them into the convs is exercised
    if (name.endsWith('running_mean')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 12)));
    if (name.endsWith('running_var')) tf.tidy(() => v.assign(tf.randomUniform(v.shape, 0.5, 2, 'float32', 13)));
  }
  saveModelDir(dir, model, { inference: { resize: { mode: 'square', size: 64 }, padDivisor: 32, enrich: false, ...opts.inference } });
  model.dispose();
  return dir;
}
