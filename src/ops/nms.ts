// Non-maximum suppression on CPU typed arrays, with torchvision's exact CPU semantics:
//  - visit boxes by descending score with a STABLE sort (equal scores: lower index first; NaN first, as torch.sort);
//  - a box is kept unless already suppressed; a kept box suppresses every later box whose IoU with it is
//    STRICTLY greater than iouThreshold;
//  - IoU in float32 (area = (x2-x1)(y2-y1), no +1), compared against the threshold as a double
//    (torchvision takes `double iou_threshold` and promotes the float IoU);
//  - indices returned in visit order (by decreasing score).
// Sort once, gather each run's boxes into contiguous arrays, precompute areas; each kept box then tests only
// the boxes that can overlap it in x (sweep over x1 order): O(N log N + kept * neighbours).
const f = Math.fround;

/** Order of comparing two scores for a descending stable sort: NaN first (torch puts NaN above +inf). */
function descending(scores: ArrayLike<number>): (a: number, b: number) => number {
  return (a, b) => {
    const sa = scores[a];
    const sb = scores[b];
    if (sa === sb) return a - b;
    if (sa !== sa) return sb !== sb ? a - b : -1; // sa is NaN
    if (sb !== sb) return 1;
    return sb > sa ? 1 : -1;
  };
}

/** Indices 0..N-1 sorted by descending score, ties by ascending index (torch.sort(stable=True, descending=True)). */
export function stableDescendingOrder(scores: ArrayLike<number>): Int32Array {
  const order = new Int32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort(descending(scores));
}

function checkInputs(boxes: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number): number {
  const n = scores.length;
  if (boxes.length !== 4 * n) throw new Error(`nms: boxes has ${boxes.length} values, expected 4 * ${n} scores`);
  if (!Number.isFinite(iouThreshold)) throw new Error(`nms: iouThreshold must be a finite number, got ${iouThreshold}`);
  return n;
}

/** A run's boxes gathered in visit order into contiguous float32 columns, with their areas. */
interface Run {
  m: number;
  x1: Float32Array;
  y1: Float32Array;
  x2: Float32Array;
  y2: Float32Array;
  area: Float32Array;
  finite: boolean;
}

function gather(boxes: ArrayLike<number>, run: Int32Array): Run {
  const m = run.length;
  const x1 = new Float32Array(m), y1 = new Float32Array(m), x2 = new Float32Array(m), y2 = new Float32Array(m);
  const area = new Float32Array(m);
  let finite = true;
  for (let k = 0; k < m; k++) {
    const o = 4 * run[k];
    x1[k] = boxes[o];
    y1[k] = boxes[o + 1];
    x2[k] = boxes[o + 2];
    y2[k] = boxes[o + 3];
    area[k] = f(f(x2[k] - x1[k]) * f(y2[k] - y1[k]));
    finite &&= Number.isFinite(area[k]) && Number.isFinite(x1[k]) && Number.isFinite(y1[k]);
  }
  return { m, x1, y1, x2, y2, area, finite };
}

/** torchvision's float32 IoU of run boxes i and j (same operation order, each step rounded to float32). */
function iouAt(r: Run, i: number, j: number): number {
  const w = Math.max(0, f(Math.min(r.x2[i], r.x2[j]) - Math.max(r.x1[i], r.x1[j])));
  const h = Math.max(0, f(Math.min(r.y2[i], r.y2[j]) - Math.max(r.y1[i], r.y1[j])));
  const inter = f(w * h);
  return f(inter / f(f(r.area[i] + r.area[j]) - inter));
}

/** The reference loop: each unsuppressed box, in visit order, tests every later unsuppressed box. */
function suppressAllPairs(r: Run, iouThreshold: number, suppressed: Uint8Array): void {
  for (let i = 0; i < r.m; i++) {
    if (suppressed[i]) continue;
    for (let j = i + 1; j < r.m; j++) if (!suppressed[j] && iouAt(r, i, j) > iouThreshold) suppressed[j] = 1;
  }
}

/**
 * Same decisions as suppressAllPairs when iouThreshold >= 0 (a disjoint pair, IoU 0 or NaN, never suppresses),
 * but each kept box i only tests the live boxes whose x1 lies in (x1_i - maxWidth, x2_i): the others cannot
 * overlap it in x. Boxes sit in x1 order; a union-find "next live slot" skips visited and suppressed ones.
 */
function suppressSweep(r: Run, iouThreshold: number, suppressed: Uint8Array): void {
  const m = r.m;
  const byX = new Int32Array(m);
  for (let k = 0; k < m; k++) byX[k] = k;
  byX.sort((a, b) => r.x1[a] - r.x1[b]);
  const xs = new Float64Array(m); // x1 in slot order
  const ys1 = new Float32Array(m); // y1, y2 in slot order (the hot loop reads them sequentially)
  const ys2 = new Float32Array(m);
  const slotOf = new Int32Array(m);
  let maxW = 0;
  for (let q = 0; q < m; q++) {
    xs[q] = r.x1[byX[q]];
    ys1[q] = r.y1[byX[q]];
    ys2[q] = r.y2[byX[q]];
    slotOf[byX[q]] = q;
    maxW = Math.max(maxW, r.x2[q] - r.x1[q]);
  }
  const next = new Int32Array(m + 1); // next[q] === q: slot q is live; slot m is a sentinel
  for (let q = 0; q <= m; q++) next[q] = q;
  const live = (q: number): number => {
    let root = q;
    while (next[root] !== root) root = next[root];
    while (next[q] !== root) {
      const after = next[q];
      next[q] = root; // path compression
      q = after;
    }
    return root;
  };
  for (let i = 0; i < m; i++) {
    if (suppressed[i]) continue;
    next[slotOf[i]] = slotOf[i] + 1; // visited: leaves the live set
    const left = r.x1[i] - maxW - 1e-6 * (maxW + Math.abs(r.x1[i])); // slack for round-off in maxW
    let lo = 0, hi = m; // first slot with x1 >= left
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < left) lo = mid + 1;
      else hi = mid;
    }
    const right = r.x2[i], top = r.y1[i], bottom = r.y2[i];
    for (let q = live(lo); q < m && xs[q] < right; q = live(q + 1)) {
      if (ys1[q] >= bottom || ys2[q] <= top) continue; // disjoint in y
      const j = byX[q]; // live, hence later in visit order than i
      if (iouAt(r, i, j) > iouThreshold) {
        suppressed[j] = 1;
        next[q] = q + 1;
      }
    }
  }
}

const SWEEP_MIN_BOXES = 32;

/** Greedy suppression over `run` (original indices, already in visit order); sets keep[i] = 1 for kept boxes. */
function suppressRun(boxes: ArrayLike<number>, run: Int32Array, iouThreshold: number, keep: Uint8Array): void {
  const r = gather(boxes, run);
  const suppressed = new Uint8Array(r.m);
  if (iouThreshold >= 0 && r.finite && r.m >= SWEEP_MIN_BOXES) suppressSweep(r, iouThreshold, suppressed);
  else suppressAllPairs(r, iouThreshold, suppressed);
  for (let k = 0; k < r.m; k++) if (!suppressed[k]) keep[run[k]] = 1;
}

/** Kept indices of `order` (visit order preserved). */
function collect(order: Int32Array, keep: Uint8Array): Int32Array {
  let count = 0;
  for (let k = 0; k < order.length; k++) count += keep[order[k]];
  const out = new Int32Array(count);
  let p = 0;
  for (let k = 0; k < order.length; k++) if (keep[order[k]]) out[p++] = order[k];
  return out;
}

/**
 * torchvision.ops.nms: boxes [N*4] flat xyxy, scores [N] -> kept indices by decreasing score.
 */
export function nms(boxes: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number): Int32Array {
  const n = checkInputs(boxes, scores, iouThreshold);
  const order = stableDescendingOrder(scores);
  const keep = new Uint8Array(n);
  suppressRun(boxes, order, iouThreshold, keep);
  return collect(order, keep);
}

/**
 * torchvision.ops.batched_nms: NMS independently per class id (boxes of different classes never suppress
 * each other), merged by decreasing score (equal scores: lower index first). Runs one pass per class over
 * that class's boxes in the global visit order (exact per-class semantics; no coordinate offsets).
 */
export function batchedNms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  classIds: ArrayLike<number>,
  iouThreshold: number,
): Int32Array {
  const n = checkInputs(boxes, scores, iouThreshold);
  if (classIds.length !== n) throw new Error(`batchedNms: ${classIds.length} class ids for ${n} scores`);
  const order = stableDescendingOrder(scores);
  // Dense bucket per distinct class id, then a counting sort of `order` into per-class runs.
  const bucketOf = new Map<number, number>();
  const bucket = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = bucketOf.get(classIds[i]);
    if (b === undefined) bucketOf.set(classIds[i], (b = bucketOf.size));
    bucket[i] = b;
  }
  const start = new Int32Array(bucketOf.size + 1);
  for (let i = 0; i < n; i++) start[bucket[i] + 1]++;
  for (let b = 0; b < bucketOf.size; b++) start[b + 1] += start[b];
  const fill = start.slice(0, bucketOf.size);
  const grouped = new Int32Array(n);
  for (let k = 0; k < n; k++) grouped[fill[bucket[order[k]]]++] = order[k];
  const keep = new Uint8Array(n);
  for (let b = 0; b < bucketOf.size; b++) suppressRun(boxes, grouped.subarray(start[b], start[b + 1]), iouThreshold, keep);
  return collect(order, keep);
}

/**
 * Indices of the k highest scores, by decreasing score (equal scores: lower index first, NaN first).
 * k >= N returns the full stable order. Selects with a native numeric sort, then orders only the k winners.
 */
export function topK(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length;
  const kk = Math.max(0, Math.min(Math.floor(k), n));
  let hasNaN = false;
  for (let i = 0; i < n && !hasNaN; i++) hasNaN = scores[i] !== scores[i];
  if (kk === n || hasNaN) return stableDescendingOrder(scores).slice(0, kk);
  if (kk === 0) return new Int32Array(0);
  const sorted = Float64Array.from(scores).sort(); // ascending
  const kth = sorted[n - kk]; // the k-th largest value
  let above = 0;
  for (let i = n - kk; i < n; i++) if (sorted[i] > kth) above++;
  let ties = kk - above; // how many scores equal to kth make the cut (lowest indices first)
  const picked = new Int32Array(kk);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (s > kth || (s === kth && ties-- > 0)) picked[p++] = i;
  }
  return picked.sort(descending(scores));
}
