// The evaluate() + accumulate() core shared by COCO and LVIS: per category, per image, greedy matching at every
// area range and IoU threshold (matchImage.ts), then one precision/recall curve per (IoU, category, area, maxDets)
// over the category's detections ranked by score (accumulate.ts). Ties keep the references' order: images in
// ascending id, then the results list's order, as their stable mergesorts do.
import { CurveScratch, curves, FALSE_POSITIVE, IGNORED, TRUE_POSITIVE } from './accumulate.ts';
import { boxIouMatrix } from './iou.ts';
import { greedyMatch, ignoreLastOrder } from './matchImage.ts';

/** Ground truth in the engine's terms (annotations already filtered by the protocol). */
export interface EngineGt {
  n: number;
  img: Int32Array;
  cat: Int32Array;
  box: Float64Array; // [n, 4] x, y, w, h
  area: Float64Array; // picks the area range
  ignore: Uint8Array; // ignored whatever the area range (COCO: crowd)
  crowd: Uint8Array | null; // may match many detections (COCO only)
  idIsZero: Uint8Array;
}

/** Detections in the engine's terms, in results-list order. */
export interface EngineDt {
  n: number;
  img: Int32Array;
  cat: Int32Array;
  box: Float64Array;
  score: Float64Array;
  /** LVIS: an unmatched detection here is ignored (category not exhaustively annotated in the image). */
  ignoreUnmatched: Uint8Array | null;
}

export interface EngineParams {
  numImages: number;
  numCategories: number;
  iouThrs: ArrayLike<number>;
  recThrs: ArrayLike<number>;
  areaRanges: ReadonlyArray<readonly [number, number]>;
  /** Ascending caps per (image, category) for accumulation (COCO [1, 10, 100]; LVIS [Infinity]). */
  maxDets: readonly number[];
}

/** precision[T, R, K, A, M] and recall[T, K, A, M]; -1 where a slice has no non-ignored ground truth. */
export interface Accumulated {
  precision: Float64Array;
  recall: Float64Array;
  T: number;
  R: number;
  K: number;
  A: number;
  M: number;
}

/**
 * Stable order of indices by (cat, img), from two counting-sort passes; start[k] .. start[k + 1] is category k.
 */
export function groupByCategoryImage(cat: Int32Array, img: Int32Array, n: number, K: number, I: number): { order: Int32Array; start: Int32Array } {
  const byImg = new Int32Array(n);
  const ci = new Int32Array(I + 1);
  for (let i = 0; i < n; i++) ci[img[i]! + 1]!++;
  for (let i = 0; i < I; i++) ci[i + 1]! += ci[i]!;
  for (let i = 0; i < n; i++) byImg[ci[img[i]!]!++] = i;
  const order = new Int32Array(n);
  const start = new Int32Array(K + 1);
  for (let i = 0; i < n; i++) start[cat[i]! + 1]!++;
  for (let k = 0; k < K; k++) start[k + 1]! += start[k]!;
  const fill = start.slice(0, K);
  for (let j = 0; j < n; j++) { const i = byImg[j]!; order[fill[cat[i]!]!++] = i; }
  return { order, start };
}

/** Sorts order[lo, hi) by score descending, equal scores by index ascending (a stable sort of the list order). */
function sortRunByScore(order: Int32Array, lo: number, hi: number, score: Float64Array): void {
  if (hi - lo < 2) return;
  if (hi - lo <= 24) {
    for (let i = lo + 1; i < hi; i++) {
      const v = order[i]!;
      const s = score[v]!;
      let j = i - 1;
      while (j >= lo && (score[order[j]!]! < s || (score[order[j]!]! === s && order[j]! > v))) { order[j + 1] = order[j]!; j--; }
      order[j + 1] = v;
    }
    return;
  }
  order.subarray(lo, hi).sort((a, b) => score[b]! - score[a]! || a - b);
}

/** Runs matching and accumulation over all categories. */
export function evaluateAndAccumulate(gt: EngineGt, dt: EngineDt, p: EngineParams): Accumulated {
  const T = p.iouThrs.length, R = p.recThrs.length, K = p.numCategories, A = p.areaRanges.length, M = p.maxDets.length;
  const I = p.numImages;
  const cap = p.maxDets[M - 1]!;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);

  const G0 = groupByCategoryImage(gt.cat, gt.img, gt.n, K, I);
  const D0 = groupByCategoryImage(dt.cat, dt.img, dt.n, K, I);
  // Within each (category, image) run: highest score first, ties in list order.
  for (let j = 0; j < dt.n;) {
    const c = dt.cat[D0.order[j]!]!, im = dt.img[D0.order[j]!]!;
    let e = j + 1;
    while (e < dt.n && dt.cat[D0.order[e]!] === c && dt.img[D0.order[e]!] === im) e++;
    sortRunByScore(D0.order, j, e, dt.score);
    j = e;
  }

  // Scratch, grown on demand.
  let ious = new Float64Array(1024);
  let gtIg = new Uint8Array(64), order = new Int32Array(64), taken = new Uint8Array(64);
  let matches = new Int32Array(256), unmatchedIg = new Uint8Array(256);
  let posScore = new Float64Array(1024), slotOf = new Int32Array(1024), ranked = new Int32Array(1024);
  let rankedRank = new Float64Array(1024);
  // outcome[slot * AT + a * T + t]: a detection's outcomes for every (area, IoU) side by side, at its ranked slot.
  const AT = A * T;
  let outcome = new Uint8Array(1024 * AT);
  const curveScratch = new CurveScratch();
  const prOut = new Float64Array(T * R), recOut = new Float64Array(T);
  const npig = new Float64Array(A);

  for (let k = 0; k < K; k++) {
    const gBeg = G0.start[k]!, gEnd = G0.start[k + 1]!, dBeg = D0.start[k]!, dEnd = D0.start[k + 1]!;
    if (gBeg === gEnd) continue; // no ground truth: every (area, maxDets) slice stays -1
    const bound = dEnd - dBeg;
    if (posScore.length < bound) {
      posScore = new Float64Array(bound * 2); slotOf = new Int32Array(bound * 2);
      ranked = new Int32Array(bound * 2); rankedRank = new Float64Array(bound * 2);
    }
    if (outcome.length < bound * AT) outcome = new Uint8Array(bound * AT * 2);

    // Pass 1: the kept detections (at most `cap` per image), in (image, score) order = position; then rank them
    // by score descending, ties by position (the references' stable mergesort over images in id order).
    let nPos = 0;
    for (let dj = dBeg; dj < dEnd;) {
      const im = dt.img[D0.order[dj]!]!;
      let e = dj;
      while (e < dEnd && dt.img[D0.order[e]!] === im) e++;
      const D = Math.min(e - dj, cap);
      for (let d = 0; d < D; d++) { posScore[nPos] = dt.score[D0.order[dj + d]!]!; rankedRank[nPos] = d; nPos++; }
      dj = e;
    }
    const r = ranked.subarray(0, nPos);
    for (let i = 0; i < nPos; i++) r[i] = i;
    r.sort((x, y) => posScore[y]! - posScore[x]! || x - y);
    for (let i = 0; i < nPos; i++) slotOf[r[i]!] = i;
    const rankOfPos = rankedRank.slice(0, nPos); // rank within its image, by position
    for (let i = 0; i < nPos; i++) rankedRank[i] = rankOfPos[r[i]!]!;

    // Pass 2: match image by image.
    npig.fill(0);
    let gj = gBeg, dj = dBeg, pos = 0;
    while (gj < gEnd || dj < dEnd) {
      const gi = gj < gEnd ? gt.img[G0.order[gj]!]! : I;
      const di = dj < dEnd ? dt.img[D0.order[dj]!]! : I;
      const im = Math.min(gi, di);
      const gs = gj; while (gj < gEnd && gt.img[G0.order[gj]!] === im) gj++;
      const ds = dj; while (dj < dEnd && dt.img[D0.order[dj]!] === im) dj++;
      const G = gj - gs;
      const D = Math.min(dj - ds, cap);
      const gIdx = G0.order.subarray(gs, gj);
      const dIdx = D0.order.subarray(ds, ds + D);
      const base = pos;
      pos += D;

      if (G > gtIg.length) { gtIg = new Uint8Array(G * 2); order = new Int32Array(G * 2); taken = new Uint8Array(G * 2); }
      if (D > matches.length) { matches = new Int32Array(D * 2); unmatchedIg = new Uint8Array(D * 2); }
      if (D > 0 && G > 0) {
        if (ious.length < D * G) ious = new Float64Array(D * G * 2);
        boxIouMatrix(dt.box, dIdx, D, gt.box, gIdx, G, gt.crowd, ious);
      }
      const localCrowd = gt.crowd !== null && G > 0 ? crowdOf(gt.crowd, gIdx) : null;

      for (let a = 0; a < A; a++) {
        const [lo, hi] = p.areaRanges[a]!;
        for (let g = 0; g < G; g++) {
          const ar = gt.area[gIdx[g]!]!;
          gtIg[g] = gt.ignore[gIdx[g]!] || ar < lo || ar > hi ? 1 : 0;
        }
        npig[a] += ignoreLastOrder(gtIg, G, order);
        for (let d = 0; d < D; d++) {
          const i = dIdx[d]!;
          const ar = dt.box[4 * i + 2]! * dt.box[4 * i + 3]!;
          unmatchedIg[d] = ar < lo || ar > hi || (dt.ignoreUnmatched !== null && dt.ignoreUnmatched[i] === 1) ? 1 : 0;
        }
        for (let t = 0; t < T; t++) {
          const col = a * T + t;
          if (G === 0) {
            for (let d = 0; d < D; d++) outcome[slotOf[base + d]! * AT + col] = unmatchedIg[d] ? IGNORED : FALSE_POSITIVE;
            continue;
          }
          greedyMatch(ious, D, G, order, gtIg, localCrowd, p.iouThrs[t]!, taken, matches);
          for (let d = 0; d < D; d++) {
            const m = matches[d]!;
            let o: number;
            if (m < 0) {
              o = unmatchedIg[d] ? IGNORED : FALSE_POSITIVE;
            } else {
              const counted = gt.idIsZero[gIdx[m]!] === 0;
              const ig = gtIg[m] === 1 || (!counted && unmatchedIg[d] === 1);
              o = ig ? IGNORED : counted ? TRUE_POSITIVE : FALSE_POSITIVE;
            }
            outcome[slotOf[base + d]! * AT + col] = o;
          }
        }
      }
    }

    // Accumulate: per (area, maxDets), the curves of all IoU thresholds over the kept ranked slots.
    for (let m = 0; m < M; m++) {
      const maxDet = p.maxDets[m]!;
      let slots: Int32Array | null = null, n = nPos;
      if (maxDet < cap) {
        n = 0;
        for (let i = 0; i < nPos; i++) if (rankedRank[i]! < maxDet) ranked[n++] = i;
        slots = ranked;
      }
      for (let a = 0; a < A; a++) {
        if (npig[a] === 0) continue;
        curves(outcome, AT, a * T, T, slots, n, npig[a]!, p.recThrs, prOut, recOut, curveScratch);
        for (let t = 0; t < T; t++) {
          recall[((t * K + k) * A + a) * M + m] = recOut[t]!;
          for (let q = 0; q < R; q++) precision[(((t * R + q) * K + k) * A + a) * M + m] = prOut[t * R + q]!;
        }
      }
    }
  }
  return { precision, recall, T, R, K, A, M };
}

/** Crowd flags of one image's gts, in local order. */
function crowdOf(crowd: Uint8Array, gIdx: Int32Array): Uint8Array {
  const out = new Uint8Array(gIdx.length);
  for (let g = 0; g < gIdx.length; g++) out[g] = crowd[gIdx[g]!]!;
  return out;
}
