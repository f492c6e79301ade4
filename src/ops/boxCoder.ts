// The ATSS/FCOS "ltrb" distance coder: a box is coded relative to an anchor point (px, py) as its
// distances to the four sides, (l, t, r, b) = (px - x1, py - y1, x2 - px, y2 - py), optionally divided
// by the level stride (so the regression targets of all FPN levels have a similar scale).
// Works on any leading dims: points [..., 2], boxes/distances [..., 4], strides [...].
import * as tf from '@tensorflow/tfjs';

/** Strides [...] -> [..., 1] so they broadcast over the 4 distances. */
function strideColumn(strides: tf.Tensor | number): tf.Tensor | number {
  return typeof strides === 'number' ? strides : tf.expandDims(strides, -1);
}

/**
 * Encode boxes as side distances from their anchor points.
 * points [K, 2] (x, y), boxes [K, 4] xyxy, strides [K] or a number (optional: divide by it) -> [K, 4] (l, t, r, b).
 * A point outside its box gives negative distances (callers only encode positives, whose centres lie inside).
 */
export function encodeLtrb(points: tf.Tensor, boxes: tf.Tensor, strides?: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const [px, py] = tf.unstack(points, points.rank - 1);
    const [x1, y1, x2, y2] = tf.unstack(boxes, boxes.rank - 1);
    const ltrb = tf.stack([tf.sub(px, x1), tf.sub(py, y1), tf.sub(x2, px), tf.sub(y2, py)], boxes.rank - 1);
    return strides === undefined ? ltrb : tf.div(ltrb, strideColumn(strides));
  });
}

/**
 * Decode side distances back to xyxy boxes (differentiable in points and distances).
 * points [K, 2], distances [K, 4] (l, t, r, b), strides [K] or a number (optional: multiply first) -> [K, 4] xyxy.
 */
export function decodeLtrb(points: tf.Tensor, distances: tf.Tensor, strides?: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const d = strides === undefined ? distances : tf.mul(distances, strideColumn(strides));
    const [px, py] = tf.unstack(points, points.rank - 1);
    const [l, t, r, b] = tf.unstack(d, d.rank - 1);
    return tf.stack([tf.sub(px, l), tf.sub(py, t), tf.add(px, r), tf.add(py, b)], d.rank - 1);
  });
}
