// Sum for wasm over a block of consecutive axes that is not at the end (bias gradients: dy [B, H, W, C] summed
// over B, H, W; a linear layer's db over its rows). wasm's Sum reduces only trailing axes, so it first
// transposes the whole input into a fresh buffer; here one JS pass over a heap view, viewed [A, R, C] with R the
// reduced block, accumulates in float64. Other cases (trailing axes, other dtypes) use the original kernel.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs';

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

export function makeSumConfig(original: KernelConfig): KernelConfig {
  const sum: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank === 0) return original.kernelFunc(args);
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const first = axes[0]!;
    const last = axes[axes.length - 1]!;
    if (last === rank - 1 || axes.some((a, i) => a !== first + i) || tf.util.sizeFromShape(x.shape) === 0) return original.kernelFunc(args);
    const size = (from: number, to: number): number => x.shape.slice(from, to).reduce((p, d) => p * d, 1);
    const [outer, reduced, inner] = [size(0, first), size(first, last + 1), size(last + 1, rank)];
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const be = args.backend as unknown as HeapBackend;
    const out = be.makeOutput(outShape, 'float32');
    columnSums(be.typedArrayFromHeap(x), be.typedArrayFromHeap(out), outer, reduced, inner); // views after allocating
    return out;
  };
  return { ...original, kernelFunc: sum };
}

/** dst[a, c] = Σ_r src[a, r, c]. */
function columnSums(src: Float32Array, dst: Float32Array, outer: number, reduced: number, inner: number): void {
  const acc = new Float64Array(inner);
  for (let a = 0; a < outer; a++) {
    acc.fill(0);
    for (let r = 0, o = a * reduced * inner; r < reduced; r++, o += inner) {
      for (let c = 0; c < inner; c++) acc[c]! += src[o + c]!;
    }
    dst.set(acc, a * inner);
  }
}
