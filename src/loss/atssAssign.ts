// ATSS label assignment (Zhang et al. 2020, "Bridging the Gap Between Anchor-based and Anchor-free
// Detection"), following mmdetection's ATSSAssigner (topk = 9). Runs on CPU typed arrays, outside the tape.
//
// For each gt box:
//  1. on every FPN level, the topk anchors whose centres are closest (L2) to the gt centre are candidates
//     (fewer when the level has fewer anchors); equal distances: lower anchor index first (torch.topk leaves
//     this unspecified, we make it deterministic);
//  2. IoU threshold = mean + std of the candidates' IoUs with the gt. std is torch's default `.std(0)`,
//     the UNBIASED one (divides by n - 1), as mmdetection uses; if all candidate IoUs are equal the
//     threshold is exactly that value (std 0, no round-off); with a single candidate (n - 1 = 0) torch
//     would give NaN and no positive, we use std = 0 instead;
//  3. positives: candidates with IoU >= threshold whose anchor centre is inside the gt with margin:
//     min(cx - x1, cy - y1, x2 - cx, y2 - cy) > 0.01 (mmdetection's rule);
//  4. an anchor positive for several gts takes the gt of highest IoU (equal IoUs: lower gt index, as
//     torch.max on CPU).
// IoU is mmdetection's BboxOverlaps2D: area (x2-x1)(y2-y1), no +1, union clamped to >= 1e-6; computed in
// float64 here (mmdetection uses float32; only exact threshold ties could differ).

export interface AtssAnchors {
  boxes: Float32Array /* [K*4] xyxy anchor boxes, all levels concatenated */;
  numPerLevel: number[];
}

export interface AtssAssignment {
  assigned: Int32Array /* [K]: index of the gt box, -1 = background */;
  positives: number /* count */;
  iouThreshold: Float64Array /* [G]: mean + std of each gt's candidate IoUs (NaN when there are no anchors) */;
}

export interface AtssOptions {
  topk?: number;
}

const CENTRE_MARGIN = 0.01;
const UNION_EPS = 1e-6;

function iou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
  const bx1 = b[4 * j], by1 = b[4 * j + 1], bx2 = b[4 * j + 2], by2 = b[4 * j + 3];
  const w = Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1));
  const h = Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
  const inter = w * h;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return inter / Math.max(union, UNION_EPS);
}

/** mean + unbiased std of xs (exact when all equal; std 0 for a single value). */
export function meanPlusStd(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  let allEqual = true;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += xs[i];
    allEqual &&= xs[i] === xs[0];
  }
  if (allEqual) return xs[0];
  let mean = sum / n;
  let corr = 0; // second pass: removes the first pass's round-off from the mean
  for (let i = 0; i < n; i++) corr += xs[i] - mean;
  mean += corr / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  return mean + Math.sqrt(ss / (n - 1));
}

/**
 * The `topk` anchors of [start, end) closest to (gx, gy), appended to `out`; ties: lower index first.
 * A sorted insertion buffer of size topk: O((end - start) * topk) worst case, usually ~linear.
 */
function nearestOnLevel(
  cx: Float64Array, cy: Float64Array, start: number, end: number, gx: number, gy: number, topk: number, out: number[],
): void {
  const k = Math.min(topk, end - start);
  if (k <= 0) return;
  const dist = new Float64Array(k).fill(Infinity);
  const idx = new Int32Array(k).fill(-1);
  for (let a = start; a < end; a++) {
    const dx = cx[a] - gx;
    const dy = cy[a] - gy;
    const d = dx * dx + dy * dy; // squared: same order as the L2 distance
    if (!(d < dist[k - 1]) && idx[k - 1] >= 0) continue; // strict: an equal later anchor never displaces
    let p = k - 1;
    while (p > 0 && (d < dist[p - 1] || idx[p - 1] < 0)) {
      dist[p] = dist[p - 1];
      idx[p] = idx[p - 1];
      p--;
    }
    dist[p] = d;
    idx[p] = a;
  }
  for (let i = 0; i < k; i++) out.push(idx[i]);
}

/** ATSS assignment of anchors to gt boxes (gtBoxes: [G*4] xyxy). */
export function atssAssign(anchors: AtssAnchors, gtBoxes: Float32Array, opts: AtssOptions = {}): AtssAssignment {
  const topk = opts.topk ?? 9;
  if (!Number.isInteger(topk) || topk < 1) throw new Error(`atssAssign: topk must be a positive integer, got ${topk}`);
  const boxes = anchors.boxes;
  if (boxes.length % 4 !== 0) throw new Error(`atssAssign: anchor boxes length ${boxes.length} is not a multiple of 4`);
  if (gtBoxes.length % 4 !== 0) throw new Error(`atssAssign: gt boxes length ${gtBoxes.length} is not a multiple of 4`);
  const K = boxes.length / 4;
  const G = gtBoxes.length / 4;
  const levelSum = anchors.numPerLevel.reduce((s, n) => s + n, 0);
  if (levelSum !== K) throw new Error(`atssAssign: numPerLevel sums to ${levelSum} but there are ${K} anchors`);

  const assigned = new Int32Array(K).fill(-1);
  const iouThreshold = new Float64Array(G).fill(NaN);
  if (G === 0 || K === 0) return { assigned, positives: 0, iouThreshold };

  const cx = new Float64Array(K);
  const cy = new Float64Array(K);
  for (let a = 0; a < K; a++) {
    cx[a] = (boxes[4 * a] + boxes[4 * a + 2]) / 2;
    cy[a] = (boxes[4 * a + 1] + boxes[4 * a + 3]) / 2;
  }
  const bestIou = new Float64Array(K).fill(-Infinity);
  const candidates: number[] = [];

  for (let g = 0; g < G; g++) {
    const x1 = gtBoxes[4 * g], y1 = gtBoxes[4 * g + 1], x2 = gtBoxes[4 * g + 2], y2 = gtBoxes[4 * g + 3];
    const gx = (x1 + x2) / 2;
    const gy = (y1 + y2) / 2;
    candidates.length = 0;
    let start = 0;
    for (const n of anchors.numPerLevel) {
      nearestOnLevel(cx, cy, start, start + n, gx, gy, topk, candidates);
      start += n;
    }
    const ious = candidates.map((a) => iou(boxes, a, gtBoxes, g));
    const thr = meanPlusStd(ious);
    iouThreshold[g] = thr;
    for (let c = 0; c < candidates.length; c++) {
      const a = candidates[c];
      if (!(ious[c] >= thr)) continue;
      const margin = Math.min(cx[a] - x1, cy[a] - y1, x2 - cx[a], y2 - cy[a]);
      if (!(margin > CENTRE_MARGIN)) continue;
      if (ious[c] > bestIou[a]) {
        bestIou[a] = ious[c];
        assigned[a] = g;
      }
    }
  }
  let positives = 0;
  for (let a = 0; a < K; a++) if (assigned[a] >= 0) positives++;
  return { assigned, positives, iouThreshold };
}

/**
 * One square anchor of side scale*stride per feature-map location, for every level.
 * Centre of cell (x, y) on a level of stride s: ((x + offset) * s, (y + offset) * s), offset 0.5 by default
 * (mmdetection's MlvlPointGenerator convention: the centre of the stride cell; mmdetection's AnchorGenerator
 * defaults to center_offset 0, i.e. x * s). Order: level-major, then row-major (y, then x), matching a
 * reshape of each level's NHWC [1, h, w, C] map to [h*w, C] and a concat over levels.
 */
export function makeAnchors(
  featureSizes: [number, number][],
  strides: number[],
  scale = 8,
  offset = 0.5,
): AtssAnchors & { points: Float32Array /* [K*2] centres */; strides: Float32Array /* [K] */ } {
  if (featureSizes.length !== strides.length) {
    throw new Error(`makeAnchors: ${featureSizes.length} feature sizes but ${strides.length} strides`);
  }
  const numPerLevel = featureSizes.map(([h, w]) => h * w);
  const K = numPerLevel.reduce((s, n) => s + n, 0);
  const boxes = new Float32Array(4 * K);
  const points = new Float32Array(2 * K);
  const anchorStrides = new Float32Array(K);
  let a = 0;
  featureSizes.forEach(([h, w], level) => {
    const s = strides[level];
    const half = (scale * s) / 2;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, a++) {
        const px = (x + offset) * s;
        const py = (y + offset) * s;
        points.set([px, py], 2 * a);
        boxes.set([px - half, py - half, px + half, py + half], 4 * a);
        anchorStrides[a] = s;
      }
    }
  });
  return { boxes, numPerLevel, points, strides: anchorStrides };
}
