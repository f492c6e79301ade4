// LVIS fixed AP (Dave et al. 2021, "Evaluating large-vocabulary object detectors: the devil is in the details";
// the protocol DetCLIPv2, GLIP and YOLO-World report): keep the top K detections of each category over the whole
// dataset (ties in list order, as Python's stable sort keeps them), no per-image cap, then LVIS evaluation.
import { UserError } from '../errors.ts';
import { evaluateLvisPrepared, topPerGroup } from './lvisEval.ts';
import { FIXED_AP_TOP_PER_CATEGORY } from './params.ts';
import { prepareDetections, prepareGroundTruth, type Detections, type GroundTruth } from './prepare.ts';
import type { CocoDataset, CocoResult, EvalResult } from './types.ts';

export interface LvisFixedOptions {
  /** Detections kept per category over the dataset; default 10,000. */
  topPerCategory?: number;
  perCategory?: boolean;
  gtSource?: string;
  dtSource?: string;
}

/** Runs fixed AP on prepared data. Keys: AP ... APf, AR@-1, ARs@-1, ARm@-1, ARl@-1. */
export function evaluateLvisFixedPrepared(gt: GroundTruth, dt: Detections, opts: LvisFixedOptions = {}): EvalResult {
  const k = opts.topPerCategory ?? FIXED_AP_TOP_PER_CATEGORY;
  if (!Number.isInteger(k) || k <= 0) throw new UserError(`topPerCategory must be a positive integer, got ${k}`);
  const kept = topPerGroup(dt.cat, dt.score, dt.n, gt.categoryIds.length, k);
  return evaluateLvisPrepared(gt, dt, { maxDets: -1, perCategory: opts.perCategory }, kept);
}

/** LVIS fixed AP: top `topPerCategory` detections per category, no per-image cap, LVIS rules. */
export function evaluateLvisFixed(gt: CocoDataset, dt: CocoResult[], opts: LvisFixedOptions = {}): EvalResult {
  const g = prepareGroundTruth(gt, 'lvis', opts.gtSource);
  return evaluateLvisFixedPrepared(g, prepareDetections(dt, g, opts.dtSource), opts);
}
