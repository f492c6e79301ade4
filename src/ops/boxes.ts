// Box geometry: pairwise IoU / GIoU, area, clipping and xyxy <-> xywh <-> cxcywh conversions.
// Boxes are xyxy in input pixels unless a name says otherwise; area = (x2-x1)(y2-y1), no +1, no eps
// (torchvision.ops.box_iou / generalized_box_iou semantics).
// Two flavours: tensor functions (differentiable, any leading dims where it makes sense) and plain
// Float32Array functions for CPU-side code (assignment, NMS, evaluation); the array IoUs round every
// step to float32 (Math.fround) so they reproduce torchvision's float32 numbers bit for bit.
import * as tf from '@tensorflow/tfjs';

const f = Math.fround;

// ---------------------------------------------------------------------------------------------
// Tensor versions
// ---------------------------------------------------------------------------------------------

/** The four coordinate columns of [..., 4] boxes, each [...] (last axis dropped). */
function columns(boxes: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.unstack(boxes, boxes.rank - 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
}

/** Pairwise intersection, union and both areas of a [N,4] x b [M,4] (call inside tf.tidy). */
function pairwiseParts(a: tf.Tensor2D, b: tf.Tensor2D) {
  const [ax1, ay1, ax2, ay2] = columns(a).map((c) => c.expandDims(1)); // [N, 1]
  const [bx1, by1, bx2, by2] = columns(b); // [M], broadcast to [N, M]
  const areaA = tf.mul(tf.sub(ax2, ax1), tf.sub(ay2, ay1)); // [N, 1]
  const areaB = tf.mul(tf.sub(bx2, bx1), tf.sub(by2, by1)); // [M]
  const w = tf.relu(tf.sub(tf.minimum(ax2, bx2), tf.maximum(ax1, bx1))); // [N, M]
  const h = tf.relu(tf.sub(tf.minimum(ay2, by2), tf.maximum(ay1, by1)));
  const inter = tf.mul(w, h);
  const union = tf.sub(tf.add(areaA, areaB), inter);
  return { ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, inter, union };
}

/** Pairwise IoU: a [N,4], b [M,4] xyxy -> [N,M] (torchvision.ops.box_iou). Differentiable. */
export function boxIou(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const { inter, union } = pairwiseParts(a, b);
    return tf.div(inter, union) as tf.Tensor2D;
  });
}

/** Pairwise generalized IoU: [N,4], [M,4] -> [N,M] in [-1, 1] (torchvision.ops.generalized_box_iou). */
export function generalizedBoxIou(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const p = pairwiseParts(a, b);
    const iou = tf.div(p.inter, p.union);
    // smallest enclosing box C
    const cw = tf.relu(tf.sub(tf.maximum(p.ax2, p.bx2), tf.minimum(p.ax1, p.bx1)));
    const ch = tf.relu(tf.sub(tf.maximum(p.ay2, p.by2), tf.minimum(p.ay1, p.by1)));
    const areaC = tf.mul(cw, ch);
    return tf.sub(iou, tf.div(tf.sub(areaC, p.union), areaC)) as tf.Tensor2D;
  });
}

/** Area of [..., 4] xyxy boxes -> [...]. */
export function boxArea(boxes: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [x1, y1, x2, y2] = columns(boxes);
    return tf.mul(tf.sub(x2, x1), tf.sub(y2, y1));
  });
}

/** Clamp [..., 4] xyxy boxes to the image [0, width] x [0, height]. */
export function clipBoxes(boxes: tf.Tensor, [height, width]: readonly [number, number]): tf.Tensor {
  return tf.tidy(() => {
    const [x1, y1, x2, y2] = columns(boxes);
    const cx = (t: tf.Tensor) => tf.clipByValue(t, 0, width);
    const cy = (t: tf.Tensor) => tf.clipByValue(t, 0, height);
    return tf.stack([cx(x1), cy(y1), cx(x2), cy(y2)], boxes.rank - 1);
  });
}

/** Rebuild [..., 4] from four [...] columns computed by fn (inside a tidy). */
function mapColumns(boxes: tf.Tensor, fn: (c: [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]) => tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => tf.stack(fn(columns(boxes)), boxes.rank - 1));
}

/** [x1, y1, x2, y2] -> [x, y, w, h] (top-left corner + size, the COCO json layout). */
export const xyxyToXywh = (b: tf.Tensor): tf.Tensor =>
  mapColumns(b, ([x1, y1, x2, y2]) => [x1, y1, tf.sub(x2, x1), tf.sub(y2, y1)]);

/** [x, y, w, h] -> [x1, y1, x2, y2]. */
export const xywhToXyxy = (b: tf.Tensor): tf.Tensor =>
  mapColumns(b, ([x, y, w, h]) => [x, y, tf.add(x, w), tf.add(y, h)]);

/** [x1, y1, x2, y2] -> [cx, cy, w, h]. */
export const xyxyToCxcywh = (b: tf.Tensor): tf.Tensor =>
  mapColumns(b, ([x1, y1, x2, y2]) => [
    tf.mul(tf.add(x1, x2), 0.5),
    tf.mul(tf.add(y1, y2), 0.5),
    tf.sub(x2, x1),
    tf.sub(y2, y1),
  ]);

/** [cx, cy, w, h] -> [x1, y1, x2, y2]. */
export const cxcywhToXyxy = (b: tf.Tensor): tf.Tensor =>
  mapColumns(b, ([cx, cy, w, h]) => {
    const hw = tf.mul(w, 0.5);
    const hh = tf.mul(h, 0.5);
    return [tf.sub(cx, hw), tf.sub(cy, hh), tf.add(cx, hw), tf.add(cy, hh)];
  });

// ---------------------------------------------------------------------------------------------
// Typed-array versions (flat [N*4]; float32 arithmetic emulated with Math.fround)
// ---------------------------------------------------------------------------------------------

function checkFlat(boxes: ArrayLike<number>, what: string): number {
  if (boxes.length % 4 !== 0) throw new Error(`${what}: length ${boxes.length} is not a multiple of 4`);
  return boxes.length / 4;
}

/** Areas [N] of flat xyxy boxes [N*4] (float32 math). */
export function boxAreaArray(boxes: ArrayLike<number>): Float32Array {
  const n = checkFlat(boxes, 'boxAreaArray');
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    out[i] = f(f(boxes[o + 2] - boxes[o]) * f(boxes[o + 3] - boxes[o + 1]));
  }
  return out;
}

/** Pairwise IoU [N*M] (row-major, row i = a[i]) of flat xyxy boxes a [N*4], b [M*4]; float32 like torchvision. */
export function boxIouMatrix(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  return pairwiseArray(a, b, false);
}

/** Pairwise generalized IoU [N*M] of flat xyxy boxes; float32 like torchvision. */
export function generalizedBoxIouMatrix(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  return pairwiseArray(a, b, true);
}

function pairwiseArray(a: ArrayLike<number>, b: ArrayLike<number>, giou: boolean): Float32Array {
  const n = checkFlat(a, 'boxes a');
  const m = checkFlat(b, 'boxes b');
  const areaA = boxAreaArray(a);
  const areaB = boxAreaArray(b);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
    for (let j = 0; j < m; j++) {
      const bx1 = b[4 * j], by1 = b[4 * j + 1], bx2 = b[4 * j + 2], by2 = b[4 * j + 3];
      const w = Math.max(0, f(Math.min(ax2, bx2) - Math.max(ax1, bx1)));
      const h = Math.max(0, f(Math.min(ay2, by2) - Math.max(ay1, by1)));
      const inter = f(w * h);
      const union = f(f(areaA[i] + areaB[j]) - inter);
      let v = f(inter / union);
      if (giou) {
        const cw = Math.max(0, f(Math.max(ax2, bx2) - Math.min(ax1, bx1)));
        const ch = Math.max(0, f(Math.max(ay2, by2) - Math.min(ay1, by1)));
        const areaC = f(cw * ch);
        v = f(v - f(f(areaC - union) / areaC));
      }
      out[i * m + j] = v;
    }
  }
  return out;
}

/** Clamp flat xyxy boxes to [0, width] x [0, height]; returns a new array. */
export function clipBoxesArray(boxes: ArrayLike<number>, [height, width]: readonly [number, number]): Float32Array {
  const n = checkFlat(boxes, 'clipBoxesArray');
  const out = new Float32Array(4 * n);
  for (let i = 0; i < 4 * n; i += 4) {
    out[i] = Math.min(Math.max(boxes[i], 0), width);
    out[i + 1] = Math.min(Math.max(boxes[i + 1], 0), height);
    out[i + 2] = Math.min(Math.max(boxes[i + 2], 0), width);
    out[i + 3] = Math.min(Math.max(boxes[i + 3], 0), height);
  }
  return out;
}

type Quad = (p: number, q: number, r: number, s: number) => [number, number, number, number];

function mapArray(boxes: ArrayLike<number>, what: string, fn: Quad): Float32Array {
  const n = checkFlat(boxes, what);
  const out = new Float32Array(4 * n);
  for (let i = 0; i < 4 * n; i += 4) {
    const r = fn(boxes[i], boxes[i + 1], boxes[i + 2], boxes[i + 3]);
    out[i] = r[0];
    out[i + 1] = r[1];
    out[i + 2] = r[2];
    out[i + 3] = r[3];
  }
  return out;
}

/** Flat [x1, y1, x2, y2] -> [x, y, w, h]. */
export const xyxyToXywhArray = (b: ArrayLike<number>): Float32Array =>
  mapArray(b, 'xyxyToXywhArray', (x1, y1, x2, y2) => [x1, y1, x2 - x1, y2 - y1]);

/** Flat [x, y, w, h] -> [x1, y1, x2, y2]. */
export const xywhToXyxyArray = (b: ArrayLike<number>): Float32Array =>
  mapArray(b, 'xywhToXyxyArray', (x, y, w, h) => [x, y, x + w, y + h]);

/** Flat [x1, y1, x2, y2] -> [cx, cy, w, h]. */
export const xyxyToCxcywhArray = (b: ArrayLike<number>): Float32Array =>
  mapArray(b, 'xyxyToCxcywhArray', (x1, y1, x2, y2) => [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]);

/** Flat [cx, cy, w, h] -> [x1, y1, x2, y2]. */
export const cxcywhToXyxyArray = (b: ArrayLike<number>): Float32Array =>
  mapArray(b, 'cxcywhToXyxyArray', (cx, cy, w, h) => [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]);
