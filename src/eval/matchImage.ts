// Greedy matching of one image's detections to its ground truths for one category, area range and IoU threshold,
// with pycocotools' rules (lvis-api's are the same without crowd boxes):
// - detections are visited in score order (the caller sorts them), ground truths with ignored ones last;
// - a detection takes the unmatched gt of highest IoU >= thr; on equal IoU the later gt wins (`<` test);
// - once it holds a regular gt it never moves to an ignored one (the loop stops at the first ignored gt);
// - crowd gts stay available after a match, so they can absorb many detections.

/**
 * Writes into `order` the gt indices sorted ignored-last, stably (np.argsort(ignore, kind='mergesort')).
 * Returns how many are not ignored.
 */
export function ignoreLastOrder(ignore: ArrayLike<number>, G: number, order: Int32Array): number {
  let n = 0;
  for (let g = 0; g < G; g++) if (!ignore[g]) order[n++] = g;
  const kept = n;
  for (let g = 0; g < G; g++) if (ignore[g]) order[n++] = g;
  return kept;
}

/**
 * Matches D detections (rows of `ious`, [D, G] in original gt order) at one IoU threshold.
 * `order` is ignoreLastOrder's output; `ignore`/`crowd` are per original gt (crowd null: none).
 * Writes out[d] = original index of the matched gt, or -1. `taken` is scratch of length >= G.
 */
export function greedyMatch(
  ious: Float64Array, D: number, G: number,
  order: Int32Array, ignore: ArrayLike<number>, crowd: ArrayLike<number> | null,
  iouThr: number, taken: Uint8Array, out: Int32Array,
): void {
  taken.fill(0, 0, G);
  const start = Math.min(iouThr, 1 - 1e-10);
  for (let d = 0; d < D; d++) {
    let best = start;
    let m = -1; // position in `order`
    const row = d * G;
    for (let p = 0; p < G; p++) {
      const g = order[p]!;
      if (taken[p] && !(crowd !== null && crowd[g])) continue;
      if (m > -1 && !ignore[order[m]!] && ignore[g]) break;
      const v = ious[row + g]!;
      if (v < best) continue;
      best = v;
      m = p;
    }
    if (m === -1) {
      out[d] = -1;
    } else {
      taken[m] = 1;
      out[d] = order[m]!;
    }
  }
}

/** Convenience form for one image: matches at every threshold; result[t * D + d] = matched gt index or -1. */
export function matchImage(
  ious: Float64Array, D: number, G: number,
  ignore: ArrayLike<number>, crowd: ArrayLike<number> | null, iouThrs: ArrayLike<number>,
): Int32Array {
  const order = new Int32Array(G);
  ignoreLastOrder(ignore, G, order);
  const taken = new Uint8Array(G);
  const out = new Int32Array(iouThrs.length * D);
  for (let t = 0; t < iouThrs.length; t++) {
    greedyMatch(ious, D, G, order, ignore, crowd, iouThrs[t]!, taken, out.subarray(t * D, (t + 1) * D));
  }
  return out;
}
