// Model configuration: zod schema (strict) and typed presets. `resolveModelConfig(name, overrides)` is the entry.
import { z } from 'zod';
import { parseStrict, suggest } from './strict.ts';
import { UserError } from '../errors.ts';
import { TextEncoderConfigSchema, CLIP_VOCAB } from '../model/text/config.ts';

const posInt = z.number().int().positive();
const quad = z.tuple([posInt, posInt, posInt, posInt]);

export const TinyBackboneSchema = z.strictObject({
  type: z.literal('tiny'),
  /** Channels of the stem, C2, C3, C4, C5. */
  channels: z.tuple([posInt, posInt, posInt, posInt, posInt]),
  blocks: z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)]),
  gnGroups: posInt,
});

export const ResNetBackboneSchema = z.strictObject({
  type: z.literal('resnet'),
  block: z.enum(['basic', 'bottleneck']),
  depths: quad,
  /** torchvision `planes` per stage; default 64, 128, 256, 512. */
  planes: quad.optional(),
  /** BatchNorm uses running statistics while training (mmdet norm_eval). */
  frozenBn: z.boolean(),
  freezeBnAffine: z.boolean(),
  /** mmdet frozen_stages: n >= 1 freezes the stem and layer1..layer n. */
  frozenStages: z.number().int().min(0).max(4),
});

export const SwinBackboneSchema = z.strictObject({
  type: z.literal('swin'),
  patchSize: posInt,
  embedDim: posInt,
  depths: quad,
  heads: quad,
  window: posInt,
  mlpRatio: z.number().positive(),
  dropPath: z.number().min(0).max(1),
});

export const BackboneSchema = z.discriminatedUnion('type', [TinyBackboneSchema, ResNetBackboneSchema, SwinBackboneSchema]);

export const FpnSchema = z.strictObject({
  outChannels: posInt,
  /** Extra levels P6, P7 by stride-2 convs: 0, 1 or 2. */
  extraLevels: z.number().int().min(0).max(2),
});

export const HeadSchema = z.strictObject({
  /** Convs per tower (the classification tower's first one is the DCN). */
  towerConvs: z.number().int().min(1),
  gnGroups: posInt,
  /** false replaces the deformable conv by a plain 3×3 conv (the ablation). */
  useDcn: z.boolean(),
  /** D, the region/concept embedding size; must equal text.outputDim. */
  embedDim: posInt,
  /** Focal-loss prior: the similarity bias starts at -log((1 - p)/p). */
  priorProb: z.number().gt(0).lt(1),
  /** ltrb = stride · act(scale_l · raw): 'exp' (FCOS) or 'relu' (FCOS norm_on_bbox). */
  regActivation: z.enum(['exp', 'relu']),
  /** Initial multiplier of the cosine similarity (learned in log space, capped at 100). */
  logitScaleInit: z.number().positive(),
  /** Anchor side = anchorScale · stride (ATSS octave_base_scale 8). */
  anchorScale: z.number().positive(),
  /**
   * Init of the tower convs: 'normal' (std 0.01, mmdet ATSS) or 'kaiming'. With AdamW and GN, std-0.01 weights
   * take ~10 % relative steps at lr 1e-3, which slows a from-scratch head (the tiny preset uses 'kaiming').
   */
  towerInit: z.enum(['normal', 'kaiming']).optional(),
});

export const InputSchema = z.strictObject({ height: posInt, width: posInt });

export const ModelConfigSchema = z.strictObject({
  backbone: BackboneSchema,
  fpn: FpnSchema,
  head: HeadSchema,
  text: TextEncoderConfigSchema,
  /** The resolution FLOPs and benchmarks refer to (training/inference may use others). */
  input: InputSchema,
}).superRefine((c, ctx) => {
  if (c.head.embedDim !== c.text.outputDim) {
    ctx.addIssue({ code: 'custom', path: ['head', 'embedDim'], message: `head.embedDim ${c.head.embedDim} must equal text.outputDim ${c.text.outputDim}` });
  }
  if (c.fpn.outChannels % c.head.gnGroups !== 0) {
    ctx.addIssue({ code: 'custom', path: ['head', 'gnGroups'], message: `fpn.outChannels ${c.fpn.outChannels} is not divisible by head.gnGroups ${c.head.gnGroups}` });
  }
  const b = c.backbone;
  if (b.type === 'swin') {
    b.heads.forEach((h, s) => {
      if ((b.embedDim * 2 ** s) % h !== 0) ctx.addIssue({ code: 'custom', path: ['backbone', 'heads'], message: `stage ${s + 1} width ${b.embedDim * 2 ** s} is not divisible by ${h} heads` });
    });
  }
});

export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type BackboneConfig = z.infer<typeof BackboneSchema>;
export type HeadConfig = z.infer<typeof HeadSchema>;

// D is not stated in the paper; 256 follows FILIP's reported joint space (see the paper notes).
const PAPER_HEAD: HeadConfig = { towerConvs: 4, gnGroups: 32, useDcn: true, embedDim: 256, priorProb: 0.01, regActivation: 'exp', logitScaleInit: 10, anchorScale: 8 };
const PAPER_FPN = { outChannels: 256, extraLevels: 2 };
const PAPER_INPUT = { height: 800, width: 1333 };
const TEXT_B = { vocabSize: CLIP_VOCAB, contextLength: 16, width: 512, heads: 8, layers: 12, outputDim: 256, activation: 'quickgelu' } as const;
const TEXT_L = { ...TEXT_B, width: 768, heads: 12 } as const;

export const MODEL_PRESETS = {
  /** CPU preset: 128 px, ~4.4M parameters (3.3M of them the text tower, mostly its 49408-token embedding). */
  tiny: {
    backbone: { type: 'tiny', channels: [16, 32, 64, 96, 128], blocks: [1, 1, 1, 1], gnGroups: 8 },
    fpn: { outChannels: 64, extraLevels: 0 },
    head: { towerConvs: 2, gnGroups: 8, useDcn: true, embedDim: 64, priorProb: 0.01, regActivation: 'exp', logitScaleInit: 10, anchorScale: 8, towerInit: 'kaiming' },
    text: { vocabSize: CLIP_VOCAB, contextLength: 16, width: 64, heads: 4, layers: 2, outputDim: 64, activation: 'quickgelu', pooling: 'words', tokenInitStd: 1 },
    input: { height: 128, width: 128 },
  },
  /** ATSS R-50-FPN (mmdet: frozen BN, frozen stem + layer1). */
  r50: {
    backbone: { type: 'resnet', block: 'bottleneck', depths: [3, 4, 6, 3], frozenBn: true, freezeBnAffine: false, frozenStages: 1 },
    fpn: PAPER_FPN, head: PAPER_HEAD, text: TEXT_B, input: PAPER_INPUT,
  },
  /** DetCLIPv2-T: Swin-T, drop path 0.2, text tower of CLIP/FILIP ViT-B size. */
  'swin-t': {
    backbone: { type: 'swin', patchSize: 4, embedDim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: 7, mlpRatio: 4, dropPath: 0.2 },
    fpn: PAPER_FPN, head: PAPER_HEAD, text: TEXT_B, input: PAPER_INPUT,
  },
  /** DetCLIPv2-L: Swin-L (window 7), text tower of CLIP/FILIP ViT-L size. */
  'swin-l': {
    backbone: { type: 'swin', patchSize: 4, embedDim: 192, depths: [2, 2, 18, 2], heads: [6, 12, 24, 48], window: 7, mlpRatio: 4, dropPath: 0.2 },
    fpn: PAPER_FPN, head: PAPER_HEAD, text: TEXT_L, input: PAPER_INPUT,
  },
} as const satisfies Record<string, ModelConfig>;

export type ModelPresetName = keyof typeof MODEL_PRESETS;
export const MODEL_PRESET_ALIASES: Record<string, ModelPresetName> = { t: 'swin-t', l: 'swin-l' };
export const MODEL_PRESET_NAMES = [...Object.keys(MODEL_PRESETS), ...Object.keys(MODEL_PRESET_ALIASES)];

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: objects merge key by key, anything else (arrays included) replaces. A new backbone.type replaces the backbone. */
function merge(base: unknown, over: unknown, key = ''): unknown {
  if (!isPlain(base) || !isPlain(over)) return over === undefined ? base : over;
  if (key === 'backbone' && over.type !== undefined && over.type !== base.type) return over;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v, k);
  return out;
}

/** Canonical preset name for a name or alias (t -> swin-t, l -> swin-l); UserError naming the choices otherwise. */
export function modelPresetName(name: string): ModelPresetName {
  const n = name.trim().toLowerCase();
  if (n in MODEL_PRESETS) return n as ModelPresetName;
  if (n in MODEL_PRESET_ALIASES) return MODEL_PRESET_ALIASES[n]!;
  const s = suggest(n, MODEL_PRESET_NAMES);
  throw new UserError(`unknown model preset '${name}'${s ? ` (did you mean '${s}'?)` : ''}; presets: ${MODEL_PRESET_NAMES.join(', ')}`);
}

/** A preset with optional overrides (a deep partial, e.g. `{ head: { useDcn: false } }`), validated strictly. */
export function resolveModelConfig(name: string, overrides: unknown = {}, where = `model preset '${name}'`): ModelConfig {
  const preset = MODEL_PRESETS[modelPresetName(name)];
  try {
    return parseStrict(ModelConfigSchema, merge(structuredClone(preset), overrides), where);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}
