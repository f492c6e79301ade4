// Joint DetCLIPv2 training, composed: model + data loader + AdamW + the train step + the loop.
// Used by `detclip train`, `detclip demo` and `detclip ablate`.
import path from 'node:path';
import { buildDetClip, loadModelDir, saveModelDir, type DetClip } from '../model/detclip.ts';
import type { ModelConfig } from '../config/model.ts';
import { createMixedLoader } from '../data/mixedLoader.ts';
import { DEFAULT_KIND_CONFIG, parseDataConfig, type DataConfig, type KindConfig } from '../data/config.ts';
import { SAMPLE_KINDS } from '../data/types.ts';
import { UserError } from '../errors.ts';
import { AdamW } from './adamw.ts';
import { lrRulesFor } from './paramGroups.ts';
import { makeTrainStep } from './trainStep.ts';
import { runTraining, type TrainingResult } from './trainLoop.ts';
import type { TrainConfig } from './trainConfig.ts';
import type { InferenceSettings } from '../infer/detector.ts';
import type { DataParallel } from './distributed/dataParallel.ts';

/**
 * The data settings that belong to the training recipe (per-kind batch size, resolution, ratio, number of
 * concepts) come from the train config; the data config contributes sources and augmentation.
 */
export function dataConfigForTraining(data: DataConfig, t: TrainConfig): DataConfig {
  const out: Record<string, unknown> = { ...data, ratios: {} };
  for (const kind of SAMPLE_KINDS) {
    const k = t.data[kind];
    const base: KindConfig = data[kind] ?? DEFAULT_KIND_CONFIG[kind];
    out[kind] = {
      ...base,
      batchSize: k.batchSize,
      resize: k.shortSide === k.maxSide ? { mode: 'square', size: k.shortSide } : { mode: 'shortSide', short: k.shortSide, max: k.maxSide },
      ...(k.negatives > 0 ? { maxConcepts: k.negatives } : {}),
    };
    (out.ratios as Record<string, number>)[kind] = data.sources.some((s) => s.kind === kind) ? k.ratio : 0;
  }
  return parseDataConfig(out, 'data config (with the training recipe applied)');
}

/** How the trained model is to be used at test time: the detection resolution and enrichment of training. */
export function inferenceSettingsFor(t: TrainConfig, data: DataConfig): InferenceSettings {
  const d = t.data.detection;
  return {
    resize: d.shortSide === d.maxSide ? { mode: 'square', size: d.shortSide } : { mode: 'shortSide', short: d.shortSide, max: d.maxSide },
    padDivisor: (data.detection ?? DEFAULT_KIND_CONFIG.detection).padDivisor,
    enrich: data.enrich,
  };
}

export interface TrainDetClipOptions {
  model: ModelConfig;
  train: TrainConfig;
  data: DataConfig;
  outDir: string;
  resume?: string;          // checkpoint dir
  init?: string;            // model dir to start from (fine-tuning)
  workers?: number;
  quiet?: boolean;
  log?: (line: string) => void;
  signal?: AbortSignal;     // stop after the current step, with a checkpoint (Ctrl-C)
  onEval?: (model: DetClip, step: number) => Promise<Record<string, number> | void>;
  /** Data-parallel: this process is one rank; the batch sizes are global; rank 0 writes every file. */
  dist?: DataParallel;
}

export interface TrainDetClipResult extends TrainingResult { model: DetClip; modelDir: string; seconds: number }

/** Trains and writes `outDir/{checkpoint/, metrics.jsonl, loss.png, model/}`. The caller disposes result.model. */
export async function trainDetClip(o: TrainDetClipOptions): Promise<TrainDetClipResult> {
  const t0 = performance.now();
  let model: DetClip;
  if (o.init && (!o.dist || o.dist.isWriter)) { // the other ranks get rank 0's parameters in runTraining
    const loaded = loadModelDir(o.init);
    model = loaded.model;
    if (JSON.stringify(model.cfg) !== JSON.stringify(o.model)) {
      model.dispose();
      throw new UserError(`${o.init}: its model config differs from the requested one (use the preset it was trained with)`);
    }
  } else {
    model = buildDetClip(o.model, o.train.train.seed);
  }
  const data = dataConfigForTraining(o.data, o.train);
  const shard = o.dist && { rank: o.dist.rank, world: o.dist.worldSize };
  const loader = await createMixedLoader(data, { seed: o.train.train.seed, workers: o.workers ?? 1, onWarning: o.log, shard });
  const tr = o.train.train;
  const optimizer = new AdamW(model.store, {
    lr: tr.lr, betas: tr.betas, eps: tr.eps, weightDecay: tr.weightDecay,
    lrRules: lrRulesFor(tr),
  });
  try {
    const result = await runTraining({
      store: model.store, optimizer, loader, step: makeTrainStep(model, o.train, o.dist), config: o.train,
      outDir: o.outDir, resumeFrom: o.resume, modelConfig: o.model, quiet: o.quiet, log: o.log, signal: o.signal,
      onEval: o.onEval ? (step) => o.onEval!(model, step) : undefined, dist: o.dist,
    });
    const modelDir = path.join(o.outDir, 'model');
    if (!o.dist || o.dist.isWriter) saveModelDir(modelDir, model, { inference: inferenceSettingsFor(o.train, data), train: o.train });
    return { ...result, model, modelDir, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    optimizer.dispose();
    await loader.close();
  }
}
