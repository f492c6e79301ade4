// COCO bbox AP exactly as pycocotools' COCOeval (evaluate, accumulate, summarize) computes it.
import { UserError } from '../errors.ts';
import { evaluateAndAccumulate, type Accumulated } from './engine.ts';
import { AREA_RANGES, COCO_MAX_DETS, IOU_THRESHOLDS, iouIndex, RECALL_THRESHOLDS } from './params.ts';
import { prepareDetections, prepareGroundTruth, type Detections, type GroundTruth } from './prepare.ts';
import { meanOverSlice, range } from './summarize.ts';
import type { CocoDataset, CocoResult, EvalResult } from './types.ts';

export interface CocoEvalOptions {
  /** Three ascending per-(image, category) caps; default [1, 10, 100]. Keys AR1, AR10, AR100 follow them. */
  maxDets?: readonly number[];
  /** Also return AP per category name (IoU 0.50:0.95, all areas, the largest maxDets). */
  perCategory?: boolean;
  /** Names for error messages, e.g. the files they came from. */
  gtSource?: string;
  dtSource?: string;
}

/** COCO summary keys for the given maxDets, in pycocotools' `stats` order. */
export function cocoStatKeys(maxDets: readonly number[] = COCO_MAX_DETS): string[] {
  const [m0, m1, m2] = maxDets;
  return ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', `AR${m0}`, `AR${m1}`, `AR${m2}`, 'ARs', 'ARm', 'ARl'];
}

function checkMaxDets(maxDets: readonly number[]): void {
  const ok = maxDets.length === 3 && maxDets.every((m) => Number.isInteger(m) && m > 0)
    && maxDets[0]! < maxDets[1]! && maxDets[1]! < maxDets[2]!;
  if (!ok) throw new UserError(`COCO maxDets must be 3 increasing positive integers, got ${JSON.stringify(maxDets)}`);
}

/** Summary statistics from accumulated COCO arrays (pycocotools summarize()). */
export function summarizeCoco(acc: Accumulated, maxDets: readonly number[]): Record<string, number> {
  const { T, R, K, A, M } = acc;
  const pShape = [T, R, K, A, M], rShape = [T, K, A, M];
  const allT = range(T), allR = range(R), allK = range(K);
  const last = M - 1;
  const ap = (t: number[], a: number) => meanOverSlice(acc.precision, pShape, [t, allR, allK, [a], [last]]);
  const ar = (a: number, m: number) => meanOverSlice(acc.recall, rShape, [allT, allK, [a], [m]]);
  const values = [
    ap(allT, 0), ap([iouIndex(0.5)], 0), ap([iouIndex(0.75)], 0), ap(allT, 1), ap(allT, 2), ap(allT, 3),
    ar(0, 0), ar(0, 1), ar(0, 2), ar(1, last), ar(2, last), ar(3, last),
  ];
  const keys = cocoStatKeys(maxDets);
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
}

/** AP per category (all IoUs, area 'all', largest maxDets); -1 for a category without ground truth. */
export function perCategoryAp(acc: Accumulated, names: readonly string[]): Record<string, number> {
  const { T, R, K, A, M } = acc;
  const out: Record<string, number> = {};
  const seen = new Map<string, number>();
  for (let k = 0; k < K; k++) {
    let name = names[k]!;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (n > 0) name = `${name} (${n + 1})`; // keep every category when names repeat
    out[name] = meanOverSlice(acc.precision, [T, R, K, A, M], [range(T), range(R), [k], [0], [M - 1]]);
  }
  return out;
}

/** Runs the COCO protocol on already-prepared data. */
export function evaluateCocoPrepared(gt: GroundTruth, dt: Detections, opts: CocoEvalOptions = {}): EvalResult {
  const maxDets = opts.maxDets ?? COCO_MAX_DETS;
  checkMaxDets(maxDets);
  const acc = evaluateAndAccumulate(
    { n: gt.n, img: gt.img, cat: gt.cat, box: gt.box, area: gt.area, ignore: gt.iscrowd, crowd: gt.iscrowd, idIsZero: gt.idIsZero },
    { ...dt, ignoreUnmatched: null },
    {
      numImages: gt.imageIds.length, numCategories: gt.categoryIds.length, iouThrs: IOU_THRESHOLDS,
      recThrs: RECALL_THRESHOLDS, areaRanges: AREA_RANGES, maxDets,
    },
  );
  const result: EvalResult = { stats: summarizeCoco(acc, maxDets) };
  if (opts.perCategory) result.perCategory = perCategoryAp(acc, gt.categoryNames);
  return result;
}

/**
 * COCO bbox evaluation (pycocotools COCOeval, iouType 'bbox').
 * Returns stats AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (-1 where undefined).
 */
export function evaluateCoco(gt: CocoDataset, dt: CocoResult[], opts: CocoEvalOptions = {}): EvalResult {
  const g = prepareGroundTruth(gt, 'coco', opts.gtSource);
  const d = prepareDetections(dt, g, opts.dtSource);
  return evaluateCocoPrepared(g, d, opts);
}
