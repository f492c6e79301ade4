// UnsortedSegmentSum for wasm (which lacks it, so tf.gather had no gradient): ScatterNd sums updates that
// share an index, which is exactly a segment sum. Ids outside [0, numSegments) are dropped, as in TF.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs';
import { runComposed } from './compose.ts';

/** x [...ids.shape, ...rest], segmentIds int32 -> [numSegments, ...rest]. */
export function segmentSumByScatter(x: tf.Tensor, segmentIds: tf.Tensor, numSegments: number): tf.Tensor {
  return tf.tidy(() => {
    const n = segmentIds.size;
    const rest = x.shape.slice(segmentIds.rank);
    const restSize = rest.reduce((a, b) => a * b, 1);
    let ids = tf.reshape(segmentIds, [n]);
    let updates = tf.reshape(x, [n, restSize]);
    const vals = segmentIds.dataSync();
    let allValid = true;
    for (let i = 0; i < vals.length; i++) {
      if (!(vals[i]! >= 0 && vals[i]! < numSegments)) {
        allValid = false;
        break;
      }
    }
    if (!allValid) {
      // ScatterNd would write out of bounds: send invalid rows to segment 0 with a zero update.
      const ok = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
      ids = tf.where(ok, ids, tf.zerosLike(ids));
      updates = tf.where(tf.reshape(ok, [n, 1]), updates, tf.zerosLike(updates));
    }
    if (n === 0) return tf.zeros([numSegments, ...rest], x.dtype);
    const out = tf.scatterND(tf.reshape(ids, [n, 1]), updates, [numSegments, restSize]);
    return tf.reshape(out, [numSegments, ...rest]);
  });
}

const unsortedSegmentSum: KernelFunc = ({ inputs, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  return runComposed([x, segmentIds], ([xt, ids]) => segmentSumByScatter(xt!, ids!, numSegments));
};

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
