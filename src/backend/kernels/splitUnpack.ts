// SplitV and Unpack for wasm, replacing the built-in ones, which call the built-in Slice (a full copy of
// the input per output). Split copies runs from heap views; unpack first moves the unpacked axis to the
// front (one Transpose) so that every output is one contiguous copy.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SplitVAttrs, UnpackAttrs } from '@tensorflow/tfjs';
import { sliceFromHeap, type WasmHeapBackend } from './slice.ts';

export function makeSplitVConfig(original: KernelConfig): KernelConfig {
  const splitV: KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((n) => {
      const size = x.shape.slice();
      size[ax] = n;
      const out = sliceFromHeap(args.backend as unknown as WasmHeapBackend, x, begin.slice(), size);
      begin[ax]! += n;
      return out;
    });
  };
  return { ...original, kernelFunc: splitV };
}

export function makeUnpackConfig(original: KernelConfig): KernelConfig {
  const unpack: KernelFunc = (args) => {
    const value = args.inputs.value as tf.TensorInfo;
    if (value.dtype === 'string') return original.kernelFunc(args);
    const backend = args.backend as unknown as WasmHeapBackend;
    const rank = value.shape.length;
    const ax = tf.util.parseAxisParam((args.attrs as unknown as UnpackAttrs).axis, value.shape)[0]!;
    const n = value.shape[ax]!;
    const rest = value.shape.filter((_, d) => d !== ax);
    const leading = value.shape.slice(0, ax).reduce((a, b) => a * b, 1);
    let front: tf.TensorInfo = value;
    if (leading > 1) {
      const perm = [ax, ...Array.from({ length: rank }, (_, d) => d).filter((d) => d !== ax)];
      front = tf.engine().runKernel('Transpose', { x: value } as unknown as tf.NamedTensorMap, { perm }) as tf.TensorInfo;
    }
    const frontShape = [n, ...rest];
    const view = { ...front, shape: frontShape } as tf.TensorInfo;
    const outs: tf.TensorInfo[] = [];
    for (let i = 0; i < n; i++) {
      const o = sliceFromHeap(backend, view, [i, ...rest.map(() => 0)], [1, ...rest]);
      outs.push({ dataId: o.dataId, dtype: o.dtype, shape: rest });
    }
    if (front !== value) (front as unknown as tf.Tensor).dispose();
    return outs;
  };
  return { ...original, kernelFunc: unpack };
}
