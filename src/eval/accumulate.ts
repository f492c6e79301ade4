// One precision/recall curve, as pycocotools' and lvis-api's accumulate() build it for a (category, area range,
// maxDets, IoU threshold): cumulative TP/FP over detections ranked by score (ignored ones count as neither),
// rc = tp / numGt, pr = tp / (fp + tp + eps), pr made monotone from the right (pr[i] = max pr[j >= i]), then
// read at each recall point r at i = searchsorted(rc, r, 'left'); points beyond the curve's end stay 0.
//
// Computed without the full arrays, with the same floating-point expressions: a suffix maximum of pr is always
// reached at a true positive (a false positive lowers pr, an ignored one repeats it, and before the first TP
// pr = 0), and the first rank where rc >= r > 0 is the k-th TP for the smallest k with k / numGt >= r.

/** Outcome of a ranked detection. */
export const IGNORED = 0;
export const TRUE_POSITIVE = 1;
export const FALSE_POSITIVE = 2;

/** Reusable buffers for curves(), grown on demand. */
export class CurveScratch {
  tpPrecision = new Float64Array(1024); // [T, numGt]: precision at each true positive
  tp = new Float64Array(16);
  fp = new Float64Array(16);
  ensure(T: number, numGt: number): void {
    if (this.tpPrecision.length < T * numGt) this.tpPrecision = new Float64Array(Math.max(T * numGt, this.tpPrecision.length * 2));
    if (this.tp.length < T) { this.tp = new Float64Array(T); this.fp = new Float64Array(T); }
  }
}

const EPS = 2.220446049250313e-16; // np.spacing(1)

/**
 * T curves at once (one per IoU threshold) over the same ranked detections: entry j (0 <= j < n) is the
 * detection in slot `slots ? slots[j] : j`, and its outcome at threshold t is outcome[slot * stride + offset + t].
 * `numGt` (> 0) counts the non-ignored ground truths. Writes precisionOut[t * R + r] and recallOut[t]
 * (final recall, 0 when n = 0).
 */
export function curves(
  outcome: ArrayLike<number>, stride: number, offset: number, T: number,
  slots: ArrayLike<number> | null, n: number, numGt: number, recThrs: ArrayLike<number>,
  precisionOut: Float64Array, recallOut: Float64Array, scratch: CurveScratch = new CurveScratch(),
): void {
  scratch.ensure(T, numGt);
  const { tpPrecision: prTp, tp, fp } = scratch;
  tp.fill(0, 0, T);
  fp.fill(0, 0, T);
  for (let j = 0; j < n; j++) {
    const row = (slots ? slots[j]! : j) * stride + offset;
    for (let t = 0; t < T; t++) {
      const o = outcome[row + t];
      if (o === TRUE_POSITIVE) { const k = ++tp[t]!; prTp[t * numGt + k - 1] = k / (fp[t]! + k + EPS); }
      else if (o === FALSE_POSITIVE) fp[t]!++;
    }
  }
  const R = recThrs.length;
  for (let t = 0; t < T; t++) {
    const nTp = tp[t]!, base = t * numGt;
    for (let k = nTp - 1; k > 0; k--) if (prTp[base + k]! > prTp[base + k - 1]!) prTp[base + k - 1] = prTp[base + k]!;
    let k = 0; // first TP whose recall (k + 1) / numGt reaches the recall point
    for (let r = 0; r < R; r++) {
      const thr = recThrs[r]!;
      let q: number;
      if (n === 0) q = 0;
      else if (thr <= 0) q = nTp > 0 ? prTp[base]! : 0; // rank 0 already has rc >= thr
      else {
        while (k < nTp && (k + 1) / numGt < thr) k++;
        q = k < nTp ? prTp[base + k]! : 0;
      }
      precisionOut[t * R + r] = q;
    }
    recallOut[t] = n > 0 ? nTp / numGt : 0;
  }
}

/** One curve: n ranked outcomes (TRUE_POSITIVE, FALSE_POSITIVE or IGNORED); fills precisionOut[R], returns recall. */
export function curve(outcome: ArrayLike<number>, numGt: number, recThrs: ArrayLike<number>, precisionOut: Float64Array): number {
  const recall = new Float64Array(1);
  curves(outcome, 1, 0, 1, null, outcome.length, numGt, recThrs, precisionOut, recall);
  return recall[0]!;
}
