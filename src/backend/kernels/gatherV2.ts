// GatherV2 for wasm, replacing the built-in one for float32/int32 data: the built-in C++ gather recomputes a
// multi-dimensional index per element (~50 ns/element, 30x slower than a copy). SparseSegmentSum with one
// index per segment is the same gather done as row copies. Other dtypes and empty cases use the original.
import * as tf from '@tensorflow/tfjs';
import type { GatherV2Attrs, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { wrapTensorInfo } from './compose.ts';

/** Makes the GatherV2 override; `original` is the wasm backend's own kernel, used as the fallback. */
export function makeGatherV2Config(original: KernelConfig): KernelConfig {
  const gatherV2: KernelFunc = (args) => {
    const { inputs, attrs, backend } = args;
    const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
      x as tf.Tensor,
      indices as tf.Tensor,
      parsedAxis,
      batchDims,
    );
    const nIdx = tf.util.sizeFromShape(indices.shape);
    const rows = info.batchSize * info.outerSize * (nIdx / info.batchSize);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rows === 0 || tf.util.sizeFromShape(x.shape) === 0) {
      return original.kernelFunc(args);
    }
    const idx = (backend as tf.KernelBackend).readSync(indices.dataId) as Int32Array;
    const dim = info.dimSize;
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i]!;
      if (!(v >= 0 && v <= dim - 1)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
    }
    // Row of x (viewed [batch*outer*dim, slice]) for output row (b, o, j).
    const perBatch = nIdx / info.batchSize;
    let rowIdx: Int32Array;
    if (info.batchSize * info.outerSize === 1) rowIdx = Int32Array.from(idx);
    else {
      rowIdx = new Int32Array(rows);
      let r = 0;
      for (let b = 0; b < info.batchSize; b++)
        for (let o = 0; o < info.outerSize; o++) {
          const base = (b * info.outerSize + o) * dim;
          for (let j = 0; j < perBatch; j++) rowIdx[r++] = base + idx[b * perBatch + j]!;
        }
    }
    const seg = new Int32Array(rows);
    for (let i = 0; i < rows; i++) seg[i] = i;
    return tf.tidy(() => {
      const xt = x instanceof tf.Tensor ? x : wrapTensorInfo(x);
      const flat = tf.reshape(xt, [info.batchSize * info.outerSize * dim, info.sliceSize]);
      const out = tf.sparse.sparseSegmentSum(flat, tf.tensor1d(rowIdx, 'int32'), tf.tensor1d(seg, 'int32'));
      return tf.reshape(out, info.outputShape);
    });
  };
  return { ...original, kernelFunc: gatherV2 };
}
