// Layout, gather and scatter kernels of the torch backend.
import * as tf from '@tensorflow/tfjs';
import { runOnWasm } from './fallback.ts';
import { dt, ids, listInputs, reg, type Args, type T } from './util.ts';

export function registerShapeKernels(): void {
  reg('Reshape', ({ inputs, backend: b, attrs }: Args<{ shape: number[] }>) => {
    const x = inputs.x!;
    const shape = tf.util.inferFromImplicitShape(attrs.shape, tf.util.sizeFromShape(x.shape));
    return b.fromNative(b.addon.reshape(b.nativeOf(x), shape), shape, x.dtype);
  });
  // Identity shares the data (reference-counted), as the cpu backend does.
  reg('Identity', ({ inputs, backend: b }: Args) => {
    const x = inputs.x!;
    b.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  });
  reg('Transpose', ({ inputs, backend: b, attrs }: Args<{ perm: number[] }>) => {
    const x = inputs.x!;
    const shape = attrs.perm.map((p) => x.shape[p]!);
    return b.fromNative(b.addon.transpose(b.nativeOf(x), attrs.perm), shape, x.dtype);
  });
  reg('Slice', ({ inputs, backend: b, attrs }: Args<{ begin: number | number[]; size: number | number[] }>) => {
    const x = inputs.x!;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    tf.slice_util.assertParamsValid(x as tf.Tensor, begin, size);
    return b.fromNative(b.addon.slice(b.nativeOf(x), begin, size), size, x.dtype);
  });
  reg('StridedSlice', (args: Args<Record<string, number | number[]>>) => {
    const { inputs, backend: b, attrs: a } = args;
    const x = inputs.x!;
    const s = tf.slice_util.sliceInfo(x.shape, a.begin as number[], a.end as number[], a.strides as number[],
      a.beginMask as number, a.endMask as number, a.ellipsisMask as number, a.newAxisMask as number, a.shrinkAxisMask as number);
    if (s.strides.some((v) => v <= 0)) return runOnWasm('StridedSlice', args as never);
    return b.fromNative(b.addon.stridedSlice(b.nativeOf(x), s.begin, s.end, s.strides, s.finalShape), s.finalShape, x.dtype);
  });
  reg('Concat', ({ inputs, backend: b, attrs }: Args<{ axis: number }>) => {
    const xs = listInputs(inputs);
    const axis = tf.util.parseAxisParam(attrs.axis, xs[0]!.shape)[0]!;
    const shape = tf.backend_util.computeOutShape(xs.map((t) => t.shape), axis);
    const dtype = dt(xs[0]!.dtype);
    return b.fromNative(b.addon.concat(ids(b, xs), axis, dtype), shape, dtype);
  });
  reg('Pack', ({ inputs, backend: b, attrs }: Args<{ axis: number }>) => {
    const xs = listInputs(inputs);
    const rank = xs[0]!.shape.length;
    const axis = attrs.axis < 0 ? attrs.axis + rank + 1 : attrs.axis;
    const shape = xs[0]!.shape.slice();
    shape.splice(axis, 0, xs.length);
    const dtype = dt(xs[0]!.dtype);
    return b.fromNative(b.addon.stack(ids(b, xs), axis, dtype), shape, dtype);
  });
  reg('Unpack', ({ inputs, backend: b, attrs }: Args<{ axis: number }>) => {
    const x = inputs.value!;
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
    const shape = x.shape.filter((_, i) => i !== axis);
    return b.addon.unstack(b.nativeOf(x), axis).map((id) => b.fromNative(id, shape.slice(), x.dtype));
  });
  reg('SplitV', ({ inputs, backend: b, attrs }: Args<{ numOrSizeSplits: number | number[]; axis: number }>) => {
    const x = inputs.x!;
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    return b.addon.splitV(b.nativeOf(x), sizes, axis).map((id, i) => {
      const shape = x.shape.slice();
      shape[axis] = sizes[i]!;
      return b.fromNative(id, shape, x.dtype);
    });
  });
  reg('PadV2', ({ inputs, backend: b, attrs }: Args<{ paddings: [number, number][]; constantValue: number }>) => {
    const x = inputs.x!;
    const shape = x.shape.map((d, i) => d + attrs.paddings[i]![0] + attrs.paddings[i]![1]);
    return b.fromNative(b.addon.pad(b.nativeOf(x), attrs.paddings.flat(), attrs.constantValue ?? 0), shape, x.dtype);
  });
  reg('Tile', ({ inputs, backend: b, attrs }: Args<{ reps: number[] }>) => {
    const x = inputs.x!;
    return b.fromNative(b.addon.tile(b.nativeOf(x), attrs.reps), x.shape.map((d, i) => d * attrs.reps[i]!), x.dtype);
  });
  reg('Reverse', ({ inputs, backend: b, attrs }: Args<{ dims: number | number[] }>) => {
    const x = inputs.x!;
    const dims = tf.util.parseAxisParam(attrs.dims, x.shape);
    return b.fromNative(b.addon.reverse(b.nativeOf(x), dims), x.shape.slice(), x.dtype);
  });
  reg('GatherV2', (args: Args<{ axis: number; batchDims: number }>) => {
    const { inputs, backend: b, attrs } = args;
    const { x, indices } = inputs as { x: T; indices: T };
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
    if ((attrs.batchDims ?? 0) !== 0) return runOnWasm('GatherV2', args as never);
    const { outputShape } = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, axis, 0);
    return b.fromNative(b.addon.gather(b.nativeOf(x), b.nativeOf(indices), axis, outputShape), outputShape, x.dtype);
  });
  reg('ScatterNd', ({ inputs, backend: b, attrs }: Args<{ shape: number[] }>) => {
    const { indices, updates } = inputs as { indices: T; updates: T };
    return b.fromNative(b.addon.scatterNd(b.nativeOf(indices), b.nativeOf(updates), attrs.shape), attrs.shape.slice(), updates.dtype);
  });
  reg('UnsortedSegmentSum', ({ inputs, backend: b, attrs }: Args<{ numSegments: number }>) => {
    const { x, segmentIds } = inputs as { x: T; segmentIds: T };
    const shape = [attrs.numSegments, ...x.shape.slice(segmentIds.shape.length)];
    return b.fromNative(b.addon.unsortedSegmentSum(b.nativeOf(x), b.nativeOf(segmentIds), attrs.numSegments), shape, x.dtype);
  });
  for (const [name, mean] of [['SparseSegmentSum', false], ['SparseSegmentMean', true]] as const) {
    reg(name, ({ inputs, backend: b }: Args) => {
      const { data, indices, segmentIds } = inputs as { data: T; indices: T; segmentIds: T };
      const id = b.addon.sparseSegmentReduce(b.nativeOf(data), b.nativeOf(indices), b.nativeOf(segmentIds), mean);
      return b.fromNative(id, b.addon.shape(id), data.dtype);
    });
  }
  reg('OneHot', ({ inputs, backend: b, attrs }: Args<{ depth: number; onValue: number; offValue: number; dtype: tf.DataType }>) => {
    const indices = inputs.indices!;
    const dtype = dt(attrs.dtype ?? 'int32');
    const id = b.addon.oneHot(b.nativeOf(indices), attrs.depth, attrs.onValue ?? 1, attrs.offValue ?? 0, dtype);
    return b.fromNative(id, [...indices.shape, attrs.depth], dtype);
  });
}
