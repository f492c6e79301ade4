// Slice for wasm, replacing the built-in one: that kernel first copies the WHOLE input out of the wasm
// heap (readSync) and then copies the slice, so a small slice of a big tensor costs a full copy plus
// fresh JS memory. This one copies the contiguous runs straight from a heap view. Strings use the original.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SliceAttrs } from '@tensorflow/tfjs';

/** The wasm backend's heap views (typedArrayFromHeap is public on BackendWasm). */
export interface WasmHeapBackend {
  disposeData(dataId: object): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Copies x[begin : begin + size] (sizes already resolved, no -1) into a new wasm tensor. */
export function sliceFromHeap(backend: WasmHeapBackend, x: tf.TensorInfo, b: number[], s: number[]): tf.TensorInfo {
  const out = backend.makeOutput(s, x.dtype);
  const total = tf.util.sizeFromShape(s);
  if (total === 0) return out;
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = s.length;
  if (rank === 0) {
    dst[0] = src[0]!;
    return out;
  }
  const strides = tf.util.computeStrides(x.shape);
  const stride = (d: number) => (d === rank - 1 ? 1 : strides[d]!);
  // Trailing axes taken whole merge with the last partial one into one contiguous run.
  let inner = rank - 1;
  let run = s[inner]!;
  while (inner > 0 && s[inner] === x.shape[inner]) {
    inner--;
    run *= s[inner]!;
  }
  let base = 0;
  for (let d = inner; d < rank; d++) base += b[d]! * stride(d);
  const idx = new Array<number>(inner).fill(0);
  for (let o = 0; o < total; o += run) {
    let off = base;
    for (let d = 0; d < inner; d++) off += (b[d]! + idx[d]!) * stride(d);
    dst.set(src.subarray(off, off + run), o);
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d]! < s[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

export function makeSliceConfig(original: KernelConfig): KernelConfig {
  const slice: KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(args);
    const { begin, size } = args.attrs as unknown as SliceAttrs;
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    return sliceFromHeap(args.backend as unknown as WasmHeapBackend, x, b, s);
  };
  return { ...original, kernelFunc: slice };
}
