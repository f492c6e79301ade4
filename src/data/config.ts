// The data configuration: sources by kind, per-kind resolution/batch/augmentation, and the mix ratios.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { parseStrict } from '../config/strict.ts';
import { UserError } from '../errors.ts';
import type { SampleKind } from './types.ts';

const resizeSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('square'), size: z.number().int().min(8) }),
  z.strictObject({ mode: z.literal('shortSide'), short: z.number().int().min(8), max: z.number().int().min(8) }),
]);

export const kindConfigSchema = z.strictObject({
  batchSize: z.number().int().min(1),
  resize: resizeSchema,
  scaleJitter: z.tuple([z.number().positive(), z.number().positive()]).default([1, 1]),
  flipProb: z.number().min(0).max(1).default(0.5),
  maxConcepts: z.number().int().min(1).optional(),   // detection 150, grounding 100 (paper)
  minBoxSize: z.number().min(0).default(1),          // boxes thinner than this after augmentation are dropped
  padDivisor: z.number().int().min(1).default(32),
});
export type KindConfig = z.infer<typeof kindConfigSchema>;

export const sourceSchema = z.strictObject({
  kind: z.enum(['detection', 'grounding', 'imageText']),
  format: z.enum(['coco', 'odvg', 'pairs', 'wds']),
  file: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]), // wds: shard list or "x-{000..009}.tar"
  images: z.string().optional(),       // image folder (default: the annotation file's folder)
  labelMap: z.string().optional(),     // odvg detection
  weight: z.number().positive().default(1), // sampling weight among the sources of its kind
  shuffleBuffer: z.number().int().min(1).default(1000), // wds: samples held for shuffling
});
export type SourceConfig = z.infer<typeof sourceSchema>;

export const dataConfigSchema = z.strictObject({
  sources: z.array(sourceSchema).min(1),
  /** probability weights of the kinds per iteration (one kind per batch, as in the paper);
   *  {} = 1 for every kind that has a source, else an unnamed kind gets 0 */
  ratios: z.strictObject({
    detection: z.number().min(0).optional(),
    grounding: z.number().min(0).optional(),
    imageText: z.number().min(0).optional(),
  }).default({}),
  detection: kindConfigSchema.optional(),
  grounding: kindConfigSchema.optional(),
  imageText: kindConfigSchema.optional(),
  conceptDictionary: z.string().optional(),  // concepts.json for grounding negatives
  enrich: z.boolean().default(true),          // detection concepts as "name, definition"
  textOverrides: z.record(z.string(), z.string()).optional(),
  normalization: z.strictObject({
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  }).optional(),
});
export type DataConfig = z.infer<typeof dataConfigSchema>;
export type DataConfigInput = z.input<typeof dataConfigSchema>;

/** Defaults per kind (paper: det/grounding high-res small batch, pairs low-res large batch), scaled down. */
export const DEFAULT_KIND_CONFIG: Record<SampleKind, KindConfig> = {
  detection: { batchSize: 4, resize: { mode: 'shortSide', short: 800, max: 1333 }, scaleJitter: [1, 1], flipProb: 0.5, maxConcepts: 150, minBoxSize: 1, padDivisor: 32 },
  // No flip for grounding: captions say "left of"/"right of".
  grounding: { batchSize: 4, resize: { mode: 'shortSide', short: 800, max: 1333 }, scaleJitter: [1, 1], flipProb: 0, maxConcepts: 100, minBoxSize: 1, padDivisor: 32 },
  imageText: { batchSize: 32, resize: { mode: 'square', size: 320 }, scaleJitter: [1, 1], flipProb: 0.5, minBoxSize: 1, padDivisor: 32 },
};

/** The effective per-kind settings (config, else defaults). */
export function kindConfig(cfg: DataConfig, kind: SampleKind): KindConfig {
  const k = cfg[kind] ?? DEFAULT_KIND_CONFIG[kind];
  return { ...k, maxConcepts: k.maxConcepts ?? DEFAULT_KIND_CONFIG[kind].maxConcepts };
}

/** Validates a config object (e.g. a preset with overrides). */
export function parseDataConfig(value: unknown, where: string): DataConfig {
  try {
    const cfg = parseStrict(dataConfigSchema, value, where);
    for (const k of ['detection', 'grounding', 'imageText'] as const) {
      const j = cfg[k]?.scaleJitter;
      if (j && j[0] > j[1]) throw new Error(`${where}: '${k}.scaleJitter': low ${j[0]} > high ${j[1]}`);
    }
    return cfg;
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

const resolveFrom = (base: string, p: string): string => (path.isAbsolute(p) ? p : path.resolve(base, p));

/** Reads a YAML (or JSON) data config; relative paths in it resolve against the file's folder. */
export function loadDataConfig(file: string): DataConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'), { logLevel: 'error' });
  } catch (err) {
    throw new UserError(`${file}: cannot read data config (${(err as Error).message.split('\n')[0]})`);
  }
  const cfg = parseDataConfig(raw, file);
  const base = path.dirname(path.resolve(file));
  for (const s of cfg.sources) {
    s.file = Array.isArray(s.file) ? s.file.map((f) => resolveFrom(base, f)) : resolveFrom(base, s.file);
    if (s.images) s.images = resolveFrom(base, s.images);
    if (s.labelMap) s.labelMap = resolveFrom(base, s.labelMap);
  }
  if (cfg.conceptDictionary) cfg.conceptDictionary = resolveFrom(base, cfg.conceptDictionary);
  return cfg;
}

export interface OvdMnistConfigOptions {
  size?: number;          // detection/grounding resolution (default 128)
  pairsSize?: number;     // image-text resolution (default 64)
  batchSize?: number;     // detection/grounding batch (default 8)
  pairsBatchSize?: number; // image-text batch (default 32)
  ratios?: DataConfig['ratios'];
  enrich?: boolean;       // detection concepts as "name, definition" (default true)
}

/** Preset: train on an OVD-MNIST folder written by `detclip data synth`. */
export function ovdMnistDataConfig(dir: string, o: OvdMnistConfigOptions = {}): DataConfig {
  const size = o.size ?? 128;
  const pairsSize = o.pairsSize ?? 64;
  const p = (f: string): string => path.join(dir, f);
  return parseDataConfig({
    sources: [
      { kind: 'detection', format: 'coco', file: p('detection.json') },
      { kind: 'grounding', format: 'odvg', file: p('grounding.jsonl') },
      { kind: 'imageText', format: 'pairs', file: p('pairs.jsonl') },
    ],
    ratios: o.ratios ?? { detection: 1, grounding: 1, imageText: 1 },
    // No flips: digits are chiral (a mirrored 2 is no 2) and captions say "left of" / "right of".
    detection: { batchSize: o.batchSize ?? 8, resize: { mode: 'square', size }, flipProb: 0, padDivisor: 32 },
    grounding: { batchSize: o.batchSize ?? 8, resize: { mode: 'square', size }, flipProb: 0, padDivisor: 32 },
    imageText: { batchSize: o.pairsBatchSize ?? 32, resize: { mode: 'square', size: pairsSize }, flipProb: 0, padDivisor: 32 },
    conceptDictionary: p('concepts.json'),
    enrich: o.enrich ?? true,
  }, `OVD-MNIST preset (${dir})`);
}
