// How a trained model is fed at test time (config.json `inference`, written by training). Browser-safe: no Node
// modules, so the web page shares it.
import { z } from 'zod';
import type { ResizeSpec } from '../data/transforms.ts';
import type { ModelConfig } from '../config/model.ts';
import { parseStrict } from '../config/strict.ts';

export interface Normalization { mean: [number, number, number]; std: [number, number, number] }
/** ImageNet statistics on 0..1 RGB: the training default (equal to IMAGENET_NORM in src/data/imageOps.ts, tested). */
export const DEFAULT_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** Settings saved next to the weights (config.json `inference`). */
export interface InferenceSettings {
  resize: ResizeSpec;              // as the detection data at training
  padDivisor: number;              // pad bottom/right to a multiple (the backbone's largest stride)
  enrich: boolean;                 // concepts as "name, definition" (WordNet), as at training
  normalization?: Normalization;   // default: ImageNet
}

// Bounded so that a hostile config.json cannot ask for a gigapixel input buffer.
const side = z.number().int().min(1).max(16384);
const triple = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);
const savedSchema = z.strictObject({
  resize: z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('square'), size: side }),
    z.strictObject({ mode: z.literal('shortSide'), short: side, max: side }),
  ]).optional(),
  padDivisor: z.number().int().min(1).max(1024).optional(),
  enrich: z.boolean().optional(),
  normalization: z.strictObject({ mean: triple, std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]) }).optional(),
});

/**
 * The inference settings of a model dir (defaults from the model's input size). A bad `inference` section throws
 * a UserError naming `where` (the config.json).
 */
export function inferenceSettings(model: { cfg: Pick<ModelConfig, 'input'> }, extra: Record<string, unknown>, where = 'config.json'): InferenceSettings {
  const saved = parseStrict(savedSchema, extra.inference ?? {}, `${where}: inference`) as Partial<InferenceSettings>;
  const { height, width } = model.cfg.input;
  const resize: ResizeSpec = saved.resize ?? (height === width
    ? { mode: 'square', size: height }
    : { mode: 'shortSide', short: Math.min(height, width), max: Math.max(height, width) });
  return {
    resize, padDivisor: saved.padDivisor ?? 32, enrich: saved.enrich ?? true,
    ...(saved.normalization ? { normalization: saved.normalization } : {}),
  };
}
