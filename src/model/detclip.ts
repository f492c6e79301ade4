// buildDetClip: the whole DetCLIPv2 network (image encoder + text encoder) in one ParamStore, and the model
// directory format used by `--weights DIR`: config.json (resolved model config) + model.safetensors.
import fs from 'node:fs';
import path from 'node:path';
import { buildDetClip, type DetClip } from './buildDetClip.ts';
import { ModelConfigSchema, type ModelConfig } from '../config/model.ts';
import { parseStrict } from '../config/strict.ts';
import { readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import { atomicWriteFileSync } from '../io/atomicWrite.ts';
import { UserError } from '../errors.ts';

export { buildDetClip, type DetClip } from './buildDetClip.ts';

export const MODEL_FILES = { config: 'config.json', weights: 'model.safetensors' } as const;

/** Writes config.json + model.safetensors into dir (each atomically). */
export function saveModelDir(dir: string, model: DetClip, extra: Record<string, unknown> = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of model.store.entries()) tensors.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  writeSafetensors(path.join(dir, MODEL_FILES.weights), tensors, { format: 'detclip' });
  atomicWriteFileSync(path.join(dir, MODEL_FILES.config), JSON.stringify({ model: model.cfg, ...extra }, null, 2) + '\n');
}

/** Reads and checks a model directory's config.json: {model: ModelConfig, ...extra}. Errors name the file. */
export function readModelConfig(cfgFile: string): { cfg: ModelConfig; raw: { model?: unknown } & Record<string, unknown> } {
  let text: string;
  try { text = fs.readFileSync(cfgFile, 'utf8'); } catch (e) {
    throw new UserError(`${cfgFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new UserError(`${cfgFile}: not valid JSON (${(e as Error).message})`); }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UserError(`${cfgFile}: must be a JSON object {"model": {...}}`);
  const cfg = parseStrict(ModelConfigSchema, (raw as { model?: unknown }).model, `${cfgFile}: model`);
  return { cfg, raw: raw as { model?: unknown } & Record<string, unknown> };
}

/** Reads a model dir (or a training checkpoint dir holding the same two files). Errors name the file. */
export function loadModelDir(dir: string): { model: DetClip; extra: Record<string, unknown> } {
  const cfgFile = path.join(dir, MODEL_FILES.config);
  const wFile = path.join(dir, MODEL_FILES.weights);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: weights directory not found`);
  if (!fs.existsSync(cfgFile)) throw new UserError(`${cfgFile}: missing (a model directory holds ${MODEL_FILES.config} and ${MODEL_FILES.weights})`);
  if (!fs.existsSync(wFile)) throw new UserError(`${wFile}: missing (a model directory holds ${MODEL_FILES.config} and ${MODEL_FILES.weights})`);
  const { cfg, raw } = readModelConfig(cfgFile);
  let model: DetClip;
  try { model = buildDetClip(cfg, 0); } catch (e) {
    throw new UserError(`${cfgFile}: cannot build this model (${(e as Error).message.split('\n')[0]})`);
  }
  try {
    const { tensors } = readSafetensors(wFile);
    model.store.load(tensors, { strict: true, where: wFile });
  } catch (e) {
    model.dispose();
    throw new UserError((e as Error).message.split('\n')[0]!);
  }
  const { model: _m, ...extra } = raw;
  return { model, extra };
}
