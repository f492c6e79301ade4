// Text-tower hyper-parameters (CLIP / FILIP-style causal transformer) and typed presets.
import { z } from 'zod';

export type TextActivation = 'quickgelu' | 'gelu';

export interface TextEncoderConfig {
  vocabSize: number;
  /** Tokens per concept; DetCLIPv2 uses 16. The positional table has exactly this many rows. */
  contextLength: number;
  width: number;
  heads: number;
  layers: number;
  /** D, the joint embedding size (columns of text_projection). */
  outputDim: number;
  /** quickgelu = x·sigmoid(1.702x) (OpenAI CLIP); gelu = exact erf GELU (most open_clip / HF models). */
  activation: TextActivation;
  /** MLP hidden size; default 4·width. */
  mlpWidth?: number;
  /** LayerNorm epsilon; default 1e-5. */
  layerNormEps?: number;
  /**
   * How a concept's tokens become one vector: 'eot' (CLIP/FILIP, default: the first EOT row) or 'mean' (mean of
   * the rows from the first word to EOT) or 'words' (mean of the word rows only). The mean poolings are for towers
   * trained from scratch: at random init the EOT row is nearly the same for every concept and joint training stays
   * stuck there; 'words' (the tiny preset) shares no pooled row between concepts at all.
   */
  pooling?: 'eot' | 'mean' | 'words';
  /**
   * Init std of the token embedding (open_clip: 0.02). With 0.02 the residual branches outweigh the token at init,
   * so every concept carries the same SOT/position component (init cosine ~0.6 between single words); a tower
   * trained from scratch starts better separated with a larger value.
   */
  tokenInitStd?: number;
}

const posInt = z.number().int().positive();

export const TextEncoderConfigSchema = z.strictObject({
  vocabSize: posInt,
  contextLength: posInt,
  width: posInt,
  heads: posInt,
  layers: posInt,
  outputDim: posInt,
  activation: z.enum(['quickgelu', 'gelu']),
  mlpWidth: posInt.optional(),
  layerNormEps: z.number().positive().optional(),
  pooling: z.enum(['eot', 'mean', 'words']).optional(),
  tokenInitStd: z.number().positive().optional(),
}).refine((c) => c.width % c.heads === 0, { message: 'width must be divisible by heads', path: ['heads'] });

export const CLIP_SOT = 49406;
export const CLIP_EOT = 49407;
export const CLIP_VOCAB = 49408;

export const mlpWidthOf = (cfg: TextEncoderConfig): number => cfg.mlpWidth ?? 4 * cfg.width;
export const layerNormEpsOf = (cfg: TextEncoderConfig): number => cfg.layerNormEps ?? 1e-5;

/** Presets. `clipB` is the OpenAI CLIP ViT-B text tower cut to DetCLIPv2's 16 tokens; `tiny` is for tests/demos. */
export const TEXT_PRESETS = {
  clipB: { vocabSize: CLIP_VOCAB, contextLength: 16, width: 512, heads: 8, layers: 12, outputDim: 512, activation: 'quickgelu' },
  clipL: { vocabSize: CLIP_VOCAB, contextLength: 16, width: 768, heads: 12, layers: 12, outputDim: 768, activation: 'quickgelu' },
  tiny: { vocabSize: CLIP_VOCAB, contextLength: 16, width: 32, heads: 4, layers: 2, outputDim: 24, activation: 'quickgelu' },
} as const satisfies Record<string, TextEncoderConfig>;
