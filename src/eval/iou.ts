// Box IoU exactly as pycocotools' maskApi.c bbIou: boxes are [x, y, w, h]; against a crowd box the union is the
// detection's own area, so a detection inside a crowd region scores high however large the region is.

/**
 * IoU of D detections against G ground truths, written row-major into `out[d * G + g]` (returned).
 * `dt`/`gt` hold boxes [x, y, w, h] at `dtIdx[d] * 4` / `gtIdx[g] * 4`; `crowd[gtIdx[g]]` marks crowd gts.
 */
export function boxIouMatrix(
  dt: Float64Array, dtIdx: ArrayLike<number>, D: number,
  gt: Float64Array, gtIdx: ArrayLike<number>, G: number,
  crowd: Uint8Array | null,
  out: Float64Array = new Float64Array(D * G),
): Float64Array {
  for (let g = 0; g < G; g++) {
    const go = gtIdx[g]! * 4;
    const gx = gt[go]!, gy = gt[go + 1]!, gw = gt[go + 2]!, gh = gt[go + 3]!;
    const ga = gw * gh;
    const isCrowd = crowd !== null && crowd[gtIdx[g]!] !== 0;
    for (let d = 0; d < D; d++) {
      const o = dtIdx[d]! * 4;
      const dx = dt[o]!, dy = dt[o + 1]!, dw = dt[o + 2]!, dh = dt[o + 3]!;
      out[d * G + g] = 0;
      // Same operation order as the C code, so results agree bit for bit.
      const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
      if (w <= 0) continue;
      const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
      if (h <= 0) continue;
      const inter = w * h;
      const da = dw * dh;
      out[d * G + g] = inter / (isCrowd ? da : da + ga - inter);
    }
  }
  return out;
}

/** IoU of two [x, y, w, h] boxes (`crowd`: union = the first box's area). */
export function boxIou(d: readonly number[], g: readonly number[], crowd = false): number {
  return boxIouMatrix(Float64Array.from(d), [0], 1, Float64Array.from(g), [0], 1, crowd ? Uint8Array.of(1) : null)[0]!;
}
