// Evaluates a detector on a COCO/LVIS-format dataset with images: the categories are the vocabulary
// (enriched as at training), results go through the reference-exact evaluators. When categories carry
// `split: 'base' | 'novel'` (OVD-MNIST, OV-COCO), base and novel are also scored on their own.
import fs from 'node:fs';
import path from 'node:path';
import type { Detector } from '../infer/detector.ts';
import { UserError } from '../errors.ts';
import { evaluateCoco, evaluateLvis, evaluateLvisFixed, readJsonFile, type CocoDataset, type CocoResult } from './index.ts';

export type EvalProtocol = 'coco' | 'lvis' | 'lvis-fixed';

export interface DetectorEvalOptions {
  protocol?: EvalProtocol;
  imagesDir?: string;          // default: the annotation file's folder
  maxDetections?: number;      // per image (default 100 for coco, 300 for lvis, 1000 for lvis-fixed)
  scoreThreshold?: number;     // default 0.05 (0.0001 for fixed AP, which needs many detections)
  limit?: number;              // evaluate the first N images only
  onProgress?: (done: number, total: number) => void;
}

export interface SplitScores { AP: number; AP50: number }
export interface DetectorEvalResult {
  stats: Record<string, number>;
  base?: SplitScores;
  novel?: SplitScores;
  results: CocoResult[];
  images: number;
}

function score(gt: CocoDataset, dt: CocoResult[], protocol: EvalProtocol): Record<string, number> {
  if (protocol === 'coco') return evaluateCoco(gt, dt).stats;
  if (protocol === 'lvis') return evaluateLvis(gt, dt).stats;
  return evaluateLvisFixed(gt, dt).stats;
}

/** The dataset restricted to some categories (all images kept). */
function restrict(gt: CocoDataset, keep: Set<number>): CocoDataset {
  return { ...gt, categories: gt.categories.filter((c) => keep.has(c.id)), annotations: gt.annotations.filter((a) => keep.has(a.category_id)) };
}

export async function evaluateDetector(det: Detector, gtFile: string, o: DetectorEvalOptions = {}): Promise<DetectorEvalResult> {
  const protocol = o.protocol ?? 'coco';
  const gt = readJsonFile(gtFile) as CocoDataset;
  if (!Array.isArray(gt.images) || !Array.isArray(gt.categories) || !Array.isArray(gt.annotations)) {
    throw new UserError(`${gtFile}: not a COCO/LVIS dataset (needs images, annotations, categories)`);
  }
  const dir = o.imagesDir ?? path.dirname(gtFile);
  const cats = gt.categories;
  det.setVocabulary(cats.map((c) => ({ name: String(c.name ?? c.id), synset: c.synset as string | undefined, text: c.text as string | undefined })));
  const maxDetections = o.maxDetections ?? (protocol === 'coco' ? 100 : protocol === 'lvis' ? 300 : 1000);
  const scoreThreshold = o.scoreThreshold ?? (protocol === 'lvis-fixed' ? 1e-4 : 0.05);
  const images = o.limit ? gt.images.slice(0, o.limit) : gt.images;
  const results: CocoResult[] = [];
  for (let i = 0; i < images.length; i++) {
    const im = images[i]!;
    if (!im.file_name) throw new UserError(`${gtFile}: images[${i}] (id ${im.id}) has no file_name`);
    const file = path.resolve(dir, im.file_name);
    if (!fs.existsSync(file)) throw new UserError(`${gtFile}: images[${i}] (id ${im.id}): image file not found: ${file}`);
    for (const d of await det.detect(file, { maxDetections, scoreThreshold })) {
      const { xmin, ymin, xmax, ymax } = d.box;
      results.push({ image_id: im.id, category_id: cats[d.labelIndex]!.id, bbox: [xmin, ymin, xmax - xmin, ymax - ymin], score: d.score });
    }
    o.onProgress?.(i + 1, images.length);
  }
  const kept = new Set(images.map((im) => im.id));
  const evalGt = o.limit ? { ...gt, images, annotations: gt.annotations.filter((a) => kept.has(a.image_id)) } : gt;
  const out: DetectorEvalResult = { stats: score(evalGt, results, protocol), results, images: images.length };
  for (const split of ['base', 'novel'] as const) {
    const ids = new Set(cats.filter((c) => c.split === split).map((c) => c.id));
    if (ids.size === 0) continue;
    const s = score(restrict(evalGt, ids), results.filter((r) => ids.has(r.category_id)), protocol);
    out[split] = { AP: s.AP!, AP50: s.AP50! };
  }
  return out;
}
