// Generalized IoU loss (Rezatofighi et al. 2019) of paired boxes, as torchvision.ops.generalized_box_iou_loss.
import * as tf from '@tensorflow/tfjs';
import { reduce, type Reduction } from './sigmoidFocal.ts';

export interface GiouLossOptions {
  eps?: number;
  reduction?: Reduction;
}

/**
 * boxes1, boxes2: [..., 4] xyxy, paired elementwise -> loss [...] = 1 - GIoU.
 * The intersection is relu(w)·relu(h): equal to torchvision's "count only when w > 0 and h > 0" in value and in
 * gradient, and free of comparisons, so it can run inside tf.grad.
 */
export function giouLoss(boxes1: tf.Tensor, boxes2: tf.Tensor, opts: GiouLossOptions = {}): tf.Tensor {
  const { eps = 1e-7, reduction = 'none' } = opts;
  return tf.tidy(() => {
    const [x1, y1, x2, y2] = tf.unstack(boxes1, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const [x1g, y1g, x2g, y2g] = tf.unstack(boxes2, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const interW = tf.relu(tf.sub(tf.minimum(x2, x2g), tf.maximum(x1, x1g)));
    const interH = tf.relu(tf.sub(tf.minimum(y2, y2g), tf.maximum(y1, y1g)));
    const inter = tf.mul(interW, interH);
    const area1 = tf.mul(tf.sub(x2, x1), tf.sub(y2, y1));
    const area2 = tf.mul(tf.sub(x2g, x1g), tf.sub(y2g, y1g));
    const union = tf.sub(tf.add(area1, area2), inter);
    const iou = tf.div(inter, tf.add(union, eps));
    // Smallest enclosing box.
    const areaC = tf.mul(tf.sub(tf.maximum(x2, x2g), tf.minimum(x1, x1g)), tf.sub(tf.maximum(y2, y2g), tf.minimum(y1, y1g)));
    const giou = tf.sub(iou, tf.div(tf.sub(areaC, union), tf.add(areaC, eps)));
    return reduce(tf.sub(1, giou), reduction);
  });
}
