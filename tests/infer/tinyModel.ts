// A small random DetCLIP saved as a model directory, for inference tests (no training, fast to build and run).
import path from 'node:path';
import { buildDetClip, saveModelDir } from '../../src/model/detclip.ts';
import { resolveModelConfig } from '../../src/config/model.ts';
import { generateOvdMnist } from '../../src/data/synth/ovdMnist.ts';
import type { InferenceSettings } from '../../src/infer/settings.ts';
import { tempDir } from './tempDir.ts';

export { tempDir };

export const TINY_OVERRIDES = {
  text: { width: 16, heads: 2, layers: 1, outputDim: 16 },
  head: { embedDim: 16, towerConvs: 1, gnGroups: 4 },
  fpn: { outChannels: 16 },
};

/** Writes config.json + model.safetensors into a fresh temp dir and returns it. */
export function makeTinyModelDir(inference: Partial<InferenceSettings> = {}, seed = 1): string {
  const dir = tempDir('detclip-infer-');
  const model = buildDetClip(resolveModelConfig('tiny', TINY_OVERRIDES), seed);
  saveModelDir(dir, model, { inference: { resize: { mode: 'square', size: 64 }, padDivisor: 32, enrich: false, ...inference } });
  model.dispose();
  return dir;
}

/** A few OVD-MNIST val images (128 px PNGs), synthesised into a temp dir (CI has no data/). */
export async function ovdMnistValImages(): Promise<string[]> {
  const dir = tempDir('detclip-ovd-');
  await generateOvdMnist({ out: dir, seed: 0, train: 3, val: 3, poolLimit: 20 });
  return [0, 1, 2].map((i) => path.join(dir, 'images', 'val', `00000${i}.png`));
}
