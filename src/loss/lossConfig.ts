// Loss hyper-parameters: zod schema (every field defaulted, unknown keys rejected) and the paper's presets.
import { z } from 'zod';
import { parseStrict } from '../config/strict.ts';

/**
 * L = L_align + α·L_giou + β·L_center + λ·L_contrastive. The paper contradicts itself: the main text gives
 * α = 2, β = 1 and the appendix (Table 9) α = 1, β = 2; λ = 0.1 in both. The main text is the default.
 */
export const LOSS_WEIGHTS_MAIN_TEXT = { align: 1, giou: 2, center: 1, contrastive: 0.1 } as const;
export const LOSS_WEIGHTS_APPENDIX = { align: 1, giou: 1, center: 2, contrastive: 0.1 } as const;

const weight = (d: number) => z.number().nonnegative().default(d);

export const lossWeightsSchema = z.strictObject({
  align: weight(LOSS_WEIGHTS_MAIN_TEXT.align),
  giou: weight(LOSS_WEIGHTS_MAIN_TEXT.giou),
  center: weight(LOSS_WEIGHTS_MAIN_TEXT.center),
  contrastive: weight(LOSS_WEIGHTS_MAIN_TEXT.contrastive),
});

export const lossConfigSchema = z.strictObject({
  weights: lossWeightsSchema.prefault({}),
  /** Focal loss of the alignment term (ATSS / GLIP values). */
  focal: z.strictObject({
    alpha: z.number().max(1).default(0.25),
    gamma: z.number().nonnegative().default(2),
  }).prefault({}),
  imageText: z.strictObject({
    tau: z.number().positive().default(0.5),
    labelSmoothing: z.number().min(0).lt(1).default(0.1),
    mode: z.enum(['1to1', '1toMany']).default('1to1'),
    /** 1-to-many softmax temperature: not reported in the paper. */
    tauT: z.number().positive().default(0.1),
    symmetric: z.boolean().default(false),
    /** Subtract each image's mean score over the texts before the softmax (not in the paper; imageTextLoss.ts). */
    centerImages: z.boolean().default(false),
    topK: z.number().int().positive().default(100),
    /** Proposal NMS threshold: not reported in the paper. */
    nmsThreshold: z.number().min(0).max(1).default(0.5),
  }).prefault({}),
});

export type LossWeights = z.infer<typeof lossWeightsSchema>;
export type LossConfig = z.infer<typeof lossConfigSchema>;

export const DEFAULT_LOSS_CONFIG: LossConfig = lossConfigSchema.parse({});

/** Parses a (partial) user loss config; missing fields take the defaults above. */
export function parseLossConfig(value: unknown, where: string): LossConfig {
  return parseStrict(lossConfigSchema, value ?? {}, where);
}
