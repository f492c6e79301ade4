// A training recipe = model preset + train preset + `key=value` overrides. Overrides starting with `model.`
// change the model config (e.g. model.head.useDcn=false); the rest change the train config (train.lr=1e-3).
import { modelPresetName, resolveModelConfig, type ModelConfig, type ModelPresetName } from '../config/model.ts';
import { parseOverride, resolveTrainConfig, setPath } from './configOverrides.ts';
import type { PresetName, TrainConfig } from './trainConfig.ts';

/** Which training recipe goes with a model preset (the paper's T recipe for R-50 and Swin-T). */
export const TRAIN_PRESET_FOR: Record<ModelPresetName, PresetName> = { tiny: 'tiny', r50: 't', 'swin-t': 't', 'swin-l': 'l' };

export interface Recipe { presetName: ModelPresetName; model: ModelConfig; train: TrainConfig }

export function resolveRecipe(preset: string, overrides: readonly string[] = [], trainFile?: string): Recipe {
  const presetName = modelPresetName(preset);
  let modelOver: Record<string, unknown> = {};
  const trainOver: string[] = [];
  for (const o of overrides) {
    const { path, value } = parseOverride(o);
    if (path[0] === 'model') modelOver = setPath(modelOver, path.slice(1), value, `override '${o}'`);
    else trainOver.push(o);
  }
  const model = resolveModelConfig(presetName, modelOver, `model preset '${presetName}' with overrides`);
  const train = resolveTrainConfig({ preset: TRAIN_PRESET_FOR[presetName], file: trainFile, overrides: trainOver });
  return { presetName, model, train };
}
