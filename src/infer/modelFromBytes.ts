// A model directory's two files, already in memory (the browser fetches them), to a ready DetClip + its inference
// settings. Browser-safe: src/model/detclip.ts reads files with node:fs, so the model is assembled here from the
// same parts (a test checks that the parameters equal loadModelDir's).
import { ParamStore } from '../model/params.ts';
import { ImageEncoder } from '../model/imageEncoder.ts';
import { TextEncoder } from '../model/text/textEncoder.ts';
import type { DetClip } from '../model/detclip.ts';
import { ModelConfigSchema, type ModelConfig } from '../config/model.ts';
import { parseStrict } from '../config/strict.ts';
import { Rng } from '../ops/rng.ts';
import { parseSafetensorsBytes } from './safetensorsBytes.ts';
import { inferenceSettings, type InferenceSettings } from './settings.ts';

/** The network with placeholder weights, structured as buildDetClip builds it (parameter names and shapes). */
export function assembleDetClip(cfg: ModelConfig): DetClip {
  const store = ParamStore.create();
  const rng = new Rng(0);
  const image = new ImageEncoder(store, cfg, rng.fork('image'));
  const text = new TextEncoder(store.scope('text'), cfg.text, rng.fork('text'));
  return { cfg, store, image, text, dispose() { text.clearCache(); store.dispose(); } };
}

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
  const model = assembleDetClip(cfg);
  try {
    model.store.load(tensors, { strict: true, where: `${dir}/model.safetensors` });
  } catch (e) {
    model.dispose();
    throw e;
  }
  const { model: _m, ...extra } = raw;
  return { model, settings: inferenceSettings(model, extra) };
}
