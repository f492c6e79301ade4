// LVIS bbox AP exactly as lvis-api's LVISEval computes it, federated rules included:
// - at most `maxDets` detections per image (highest scores, ties in list order), before anything else;
// - annotations and detections need area > 0 (lvis-api's get_ann_ids filter; detection area is w*h);
// - a detection counts only on a category verified in its image: present (has a kept annotation) or in the
//   image's neg_category_ids; others are dropped;
// - an unmatched detection on a category in the image's not_exhaustive_category_ids is ignored;
// - no crowd handling (lvis-api passes iscrowd = 0); an annotation's own `ignore` flag is honoured.
import { UserError } from '../errors.ts';
import { perCategoryAp } from './cocoEval.ts';
import { evaluateAndAccumulate, type Accumulated } from './engine.ts';
import { AREA_RANGES, iouIndex, IOU_THRESHOLDS, LVIS_MAX_DETS, RECALL_THRESHOLDS } from './params.ts';
import { prepareDetections, prepareGroundTruth, selectDetections, type Detections, type GroundTruth } from './prepare.ts';
import { meanOverSlice, range } from './summarize.ts';
import type { CocoDataset, CocoResult, EvalResult } from './types.ts';

export interface LvisEvalOptions {
  /** Detections kept per image (highest scores); -1 keeps all. Default 300. Names the AR keys (AR@300). */
  maxDets?: number;
  /** Also return AP per category name (IoU 0.50:0.95, all areas). */
  perCategory?: boolean;
  gtSource?: string;
  dtSource?: string;
}

/** LVIS summary keys in lvis-api's get_results() order. */
export function lvisStatKeys(maxDets: number = LVIS_MAX_DETS): string[] {
  return ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc', 'APf',
    `AR@${maxDets}`, `ARs@${maxDets}`, `ARm@${maxDets}`, `ARl@${maxDets}`];
}

/**
 * Indices of the `cap` highest-scoring detections of each group (ties: list order), in list order.
 * `among` restricts the candidates to those indices (ascending); default all n.
 */
export function topPerGroup(
  group: Int32Array, score: Float64Array, n: number, numGroups: number, cap: number, among: Int32Array | null = null,
): Int32Array {
  const m = among ? among.length : n;
  const at = (j: number): number => (among ? among[j]! : j);
  const count = new Int32Array(numGroups + 1);
  for (let j = 0; j < m; j++) count[group[at(j)]! + 1]!++;
  for (let g = 0; g < numGroups; g++) count[g + 1]! += count[g]!;
  const fill = count.slice();
  const byGroup = new Int32Array(m);
  for (let j = 0; j < m; j++) { const i = at(j); byGroup[fill[group[i]!]!++] = i; }
  const keep = new Uint8Array(n);
  for (let g = 0; g < numGroups; g++) {
    const lo = count[g]!, hi = count[g + 1]!;
    if (hi - lo <= cap) { for (let j = lo; j < hi; j++) keep[byGroup[j]!] = 1; continue; }
    const run = byGroup.subarray(lo, hi).sort((a, b) => score[b]! - score[a]! || a - b);
    for (let j = 0; j < cap; j++) keep[run[j]!] = 1;
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += keep[i]!;
  const out = new Int32Array(total);
  for (let i = 0, j = 0; i < n; i++) if (keep[i]) out[j++] = i;
  return out;
}

/** Summary statistics from accumulated LVIS arrays (lvis-api summarize()). */
export function summarizeLvis(acc: Accumulated, frequency: readonly ('r' | 'c' | 'f' | undefined)[], maxDets: number): Record<string, number> {
  const { T, R, K, A } = acc;
  const pShape = [T, R, K, A], rShape = [T, K, A];
  const allT = range(T), allR = range(R), allK = range(K);
  const ap = (t: number[], ks: number[], a: number) => meanOverSlice(acc.precision, pShape, [t, allR, ks, [a]]);
  const ar = (a: number) => meanOverSlice(acc.recall, rShape, [allT, allK, [a]]);
  const group = (f: string) => allK.filter((k) => frequency[k] === f);
  const values = [
    ap(allT, allK, 0), ap([iouIndex(0.5)], allK, 0), ap([iouIndex(0.75)], allK, 0),
    ap(allT, allK, 1), ap(allT, allK, 2), ap(allT, allK, 3),
    ap(allT, group('r'), 0), ap(allT, group('c'), 0), ap(allT, group('f'), 0),
    ar(0), ar(1), ar(2), ar(3),
  ];
  const keys = lvisStatKeys(maxDets);
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
}

const PRESENT = 1, NEGATIVE = 2, NOT_EXHAUSTIVE = 4;

/**
 * Runs the LVIS protocol on prepared data (detections not yet capped per image). `among` (ascending indices)
 * restricts the detections first, as fixed AP's per-category selection does.
 */
export function evaluateLvisPrepared(gt: GroundTruth, dt: Detections, opts: LvisEvalOptions = {}, among: Int32Array | null = null): EvalResult {
  const maxDets = opts.maxDets ?? LVIS_MAX_DETS;
  if (!Number.isInteger(maxDets) || (maxDets < 0 && maxDets !== -1)) {
    throw new UserError(`LVIS maxDets must be a non-negative integer or -1 (no cap), got ${maxDets}`);
  }
  const I = gt.imageIds.length, K = gt.categoryIds.length;
  const candidates = maxDets >= 0 ? topPerGroup(dt.img, dt.score, dt.n, I, maxDets, among) : among;

  // What each (image, category) is: PRESENT (an annotation with area > 0), NEGATIVE, NOT_EXHAUSTIVE.
  const status = new Uint8Array(I * K);
  const gtKeep: number[] = [];
  for (let i = 0; i < gt.n; i++) {
    if (!(gt.area[i]! > 0 && gt.area[i]! < Infinity)) continue;
    gtKeep.push(i);
    status[gt.img[i]! * K + gt.cat[i]!]! |= PRESENT;
  }
  for (let im = 0; im < I; im++) {
    for (const id of gt.negCategories[im]!) { const c = gt.categoryIndex.get(id); if (c !== undefined) status[im * K + c]! |= NEGATIVE; }
    for (const id of gt.notExhaustive[im]!) { const c = gt.categoryIndex.get(id); if (c !== undefined) status[im * K + c]! |= NOT_EXHAUSTIVE; }
  }
  const pick = <A extends Int32Array | Float64Array | Uint8Array>(src: A, width = 1): A => {
    const out = new (src.constructor as new (n: number) => A)(gtKeep.length * width);
    gtKeep.forEach((i, j) => { for (let c = 0; c < width; c++) out[j * width + c] = src[i * width + c]!; });
    return out;
  };

  // Detections with area > 0 on a verified (present or negative) category of their image.
  const m = candidates ? candidates.length : dt.n;
  const dtKeep = new Int32Array(m);
  const notExhaustive = new Uint8Array(m);
  let nKeep = 0;
  for (let j = 0; j < m; j++) {
    const i = candidates ? candidates[j]! : j;
    const area = dt.box[4 * i + 2]! * dt.box[4 * i + 3]!;
    if (!(area > 0 && area < Infinity)) continue;
    const st = status[dt.img[i]! * K + dt.cat[i]!]!;
    if (!(st & (PRESENT | NEGATIVE))) continue;
    notExhaustive[nKeep] = st & NOT_EXHAUSTIVE ? 1 : 0;
    dtKeep[nKeep++] = i;
  }
  const d = selectDetections(dt, dtKeep, nKeep);

  const acc = evaluateAndAccumulate(
    { n: gtKeep.length, img: pick(gt.img), cat: pick(gt.cat), box: pick(gt.box, 4), area: pick(gt.area),
      ignore: pick(gt.ignore), crowd: null, idIsZero: pick(gt.idIsZero) },
    { ...d, ignoreUnmatched: notExhaustive.subarray(0, nKeep) },
    { numImages: I, numCategories: K, iouThrs: IOU_THRESHOLDS, recThrs: RECALL_THRESHOLDS, areaRanges: AREA_RANGES, maxDets: [Infinity] },
  );
  const result: EvalResult = { stats: summarizeLvis(acc, gt.frequency, maxDets) };
  if (opts.perCategory) result.perCategory = perCategoryAp(acc, gt.categoryNames);
  return result;
}

/**
 * LVIS bbox evaluation (lvis-api LVISEval, iou_type 'bbox'). Returns stats AP, AP50, AP75, APs, APm, APl,
 * APr, APc, APf, AR@N, ARs@N, ARm@N, ARl@N with N = maxDets (-1 where undefined).
 */
export function evaluateLvis(gt: CocoDataset, dt: CocoResult[], opts: LvisEvalOptions = {}): EvalResult {
  const g = prepareGroundTruth(gt, 'lvis', opts.gtSource);
  return evaluateLvisPrepared(g, prepareDetections(dt, g, opts.dtSource), opts);
}

