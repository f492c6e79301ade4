// The training configuration: a strict zod schema, typed presets (`tiny` demo, paper `t` / `l`), and resolution
// from preset + optional YAML/JSON file + `key=value` overrides (configOverrides.ts).
// Paper facts: /work/shared/design/detclipv2-paper-notes.md. Values the paper does not report are marked "not reported".
import { z } from 'zod';

const kindData = z.strictObject({
  batchSize: z.number().int().positive(),   // images per micro-batch (x train.accumulate per optimizer step)
  shortSide: z.number().int().positive(),   // resize so the short side is this ...
  maxSide: z.number().int().positive(),     // ... and the long side at most this (mmdet keep-ratio "1333x800")
  ratio: z.number().min(0),                 // relative probability of sampling this kind for an iteration
  negatives: z.number().int().min(0),       // concepts per sample incl. negatives (M); 0 for image-text pairs
});

export const trainConfigSchema = z.strictObject({
  train: z.strictObject({
    steps: z.number().int().positive(),           // optimizer steps (paper: 12 epochs; iteration count not reported)
    seed: z.number().int().min(0),
    lr: z.number().positive(),                    // paper: 2.8e-4 (T), 4e-4 (L)
    warmup: z.number().int().min(0),              // linear warm-up steps (paper: 1000)
    minLrRatio: z.number().min(0).max(1),         // cosine floor / lr (not reported)
    weightDecay: z.number().min(0),               // paper: 0.05
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]),
    eps: z.number().positive(),
    textLrMult: z.number().min(0),                // paper: 0.1 for the FILIP-initialised text encoder
    // Name-prefix lr multipliers, first match wins, before the default `text.` x textLrMult rule
    // (e.g. [{"prefix":"text.token_embedding","lrMult":1}]).
    lrRules: z.array(z.strictObject({ prefix: z.string().min(1), lrMult: z.number().min(0) })).optional(),
    gradClip: z.number().positive().nullable(),   // global-norm clip; null = off (not reported)
    accumulate: z.number().int().positive(),      // micro-batches per optimizer step
    checkpointEvery: z.number().int().min(0),     // optimizer steps; 0 = only the final checkpoint
    evalEvery: z.number().int().min(0),           // optimizer steps; 0 = never
    plotEvery: z.number().int().min(0),           // redraw loss.png every N steps (and at checkpoints); 0 = at the end only
  }),
  data: z.strictObject({
    detection: kindData,
    grounding: kindData,
    imageText: kindData,
  }).refine((d) => d.detection.ratio + d.grounding.ratio + d.imageText.ratio > 0, { message: 'at least one kind needs ratio > 0' }),
  // L = align + giou*L_reg + center*L_center + contrastive*L_cts. Main text: giou(alpha)=2, center(beta)=1;
  // appendix Table 9 says alpha=1, beta=2 (the paper contradicts itself); lambda=0.1 in both.
  loss: z.strictObject({
    align: z.number().min(0),
    giou: z.number().min(0),
    center: z.number().min(0),
    contrastive: z.number().min(0),
  }),
  // Sigmoid focal loss of the alignment term (ATSS / GLIP: alpha 0.25, gamma 2; not reported in the paper).
  focal: z.strictObject({
    alpha: z.number().max(1),                     // weight of positives; < 0 = none
    gamma: z.number().min(0),
  }).default({ alpha: 0.25, gamma: 2 }),
  imageText: z.strictObject({
    k: z.number().int().positive(),               // proposals kept per image after NMS (paper: 100)
    nmsThreshold: z.number().gt(0).max(1),        // proposal NMS IoU (not reported)
    mode: z.enum(['1to1', '1toMany']),            // word-region matching (paper uses 1-to-1)
    tauT: z.number().positive(),                  // 1-to-many softmax temperature (not reported)
    tau: z.number().positive(),                   // contrastive temperature (paper: 0.5)
    labelSmoothing: z.number().min(0).lt(1),      // paper: 0.1
    symmetric: z.boolean(),                       // paper: text-to-image only
    centerImages: z.boolean().optional(),         // not in the paper (default off): see imageTextLoss.ts
  }),
});

export type TrainConfig = z.infer<typeof trainConfigSchema>;
export type PresetName = 'tiny' | 't' | 'l';
export const PRESET_NAMES: readonly PresetName[] = ['tiny', 't', 'l'];

const PAPER_LOSS = { align: 1, giou: 2, center: 1, contrastive: 0.1 };
const PAPER_IMAGE_TEXT = { k: 100, nmsThreshold: 0.5, mode: '1to1', tauT: 0.1, tau: 0.5, labelSmoothing: 0.1, symmetric: false } as const;

/** Paper-scale settings (DetCLIPv2-T); `l` differs in lr and detection batch. */
function paper(lr: number, detBatch: number): TrainConfig {
  return {
    train: {
      steps: 100_000, seed: 0, lr, warmup: 1000, minLrRatio: 0.01, weightDecay: 0.05, betas: [0.9, 0.999], eps: 1e-8,
      textLrMult: 0.1, gradClip: null, accumulate: 1, checkpointEvery: 5000, evalEvery: 10_000, plotEvery: 1000,
    },
    data: {
      // sampling ratios are not reported: equal by default
      detection: { batchSize: detBatch, shortSide: 800, maxSide: 1333, ratio: 1, negatives: 150 },
      grounding: { batchSize: detBatch, shortSide: 800, maxSide: 1333, ratio: 1, negatives: 100 },
      imageText: { batchSize: 6144, shortSide: 320, maxSide: 320, ratio: 1, negatives: 0 },
    },
    loss: { ...PAPER_LOSS },
    focal: { alpha: 0.25, gamma: 2 },
    imageText: { ...PAPER_IMAGE_TEXT },
  };
}

/** A fresh copy of a preset. `tiny` is the CPU demo: small images, short run, short warm-up, higher lr from scratch. */
export function preset(name: PresetName): TrainConfig {
  switch (name) {
    case 't': return paper(2.8e-4, 128);
    case 'l': return paper(4e-4, 256);
    case 'tiny': {
      const c = paper(1e-3, 8);
      // textLrMult stays at the paper's 0.1: a from-scratch tower at lr x1 (or x3) pulls all concepts together
      // (pairwise cosine 0.95) and halves base AP50 (0.263 at x0.1, 0.201 at x1, 0.139 at x3; 500 detection steps).
      c.train = { ...c.train, steps: 300, warmup: 20, gradClip: 5, checkpointEvery: 100, evalEvery: 150, plotEvery: 50 };
      c.data = {
        // batch 4: from scratch, twice the steps beat twice the batch for the same images (0.240 vs 0.194 AP50)
        detection: { batchSize: 4, shortSide: 128, maxSide: 128, ratio: 1, negatives: 20 },
        grounding: { batchSize: 4, shortSide: 128, maxSide: 128, ratio: 1, negatives: 20 },
        imageText: { batchSize: 32, shortSide: 64, maxSide: 64, ratio: 1, negatives: 0 },
      };
      // k = 100 of ~2,000 anchors at 320 px in the paper (5 %); a 64 px pair has 84 anchors: keep the same share.
      c.imageText = { ...c.imageText, k: 8 };
      return c;
    }
  }
}
