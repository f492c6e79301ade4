// A model directory's two files, already in memory (the browser fetches them), to a ready DetClip + its inference
// settings. Browser-safe (no node:*).
import { buildDetClip, type DetClip } from '../model/buildDetClip.ts';
import { ModelConfigSchema } from '../config/model.ts';
import { parseStrict } from '../config/strict.ts';
import { parseSafetensorsBytes } from '../io/safetensorsFormat.ts';
import { inferenceSettings, type InferenceSettings } from './settings.ts';

/**
 * config: the parsed config.json ({model, inference?, ...}); weights: model.safetensors bytes.
 * Errors (bad config, missing/unexpected/misshapen tensors) name `where`.
 */
export function modelFromBytes(config: unknown, weights: ArrayBuffer | Uint8Array, where = 'model'):
  { model: DetClip; settings: InferenceSettings } {
  const raw = (config ?? {}) as { model?: unknown } & Record<string, unknown>;
  const dir = where.replace(/\/+$/, '');
  const cfg = parseStrict(ModelConfigSchema, raw.model, `${dir}/config.json: model`);
  const tensors = parseSafetensorsBytes(weights, `${dir}/model.safetensors`);
  const model = buildDetClip(cfg, 0);
  try {
    model.store.load(tensors, { strict: true, where: `${dir}/model.safetensors` });
  } catch (e) {
    model.dispose();
    throw e;
  }
  const { model: _m, ...extra } = raw;
  return { model, settings: inferenceSettings(model, extra, `${dir}/config.json`) };
}
