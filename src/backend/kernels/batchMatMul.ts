// BatchMatMul for wasm, replacing the built-in one. The built-in kernel uses XNNPACK only for a single matrix
// product without transposes; everything else (transposeA/B, which every matmul gradient uses, and batch > 1)
// runs a naive loop at 0.7-2.6 GFLOP/s instead of ~20. Here every case becomes XNNPACK products:
// - transposed operands are transposed first with a tiled JS copy on the heap (5-10x faster than the wasm
//   Transpose kernel for 2-D), choosing between op(A)·op(B) and (op(B)ᵀ·op(A)ᵀ)ᵀ by the fewest elements copied;
// - a batch against one shared matrix is one product with the batch folded into the rows;
// - a batch against a batch runs one product per matrix on views of the operands (tensor ids registered on
//   sub-ranges of the heap, released without freeing the memory they point into).
//   (A JS loop for small matrices was 5x slower than per-matrix XNNPACK calls, ~10 µs each.)
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs';

interface WasmModule {
  HEAPU8: Uint8Array;
  cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}

/** The parts of the wasm backend this kernel uses (public fields of BackendWasm). */
interface WasmBackend {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

type WasmMatMul = (aId: number, aShape: Uint8Array, aLen: number, bId: number, bShape: Uint8Array, bLen: number,
  tA: boolean, tB: boolean, outId: number) => void;

const TILE = 16;

/** x viewed [batch, rows, cols] -> a new [batch, cols, rows] tensor (tiled copy, cache friendly both ways). */
export function transposeInner(backend: WasmBackend, x: TensorInfo, batch: number, rows: number, cols: number): TensorInfo {
  const out = backend.makeOutput([batch, cols, rows], 'float32');
  const src = backend.typedArrayFromHeap(x); // views after makeOutput: allocating may grow the heap
  const dst = backend.typedArrayFromHeap(out);
  const size = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    for (let i0 = 0; i0 < rows; i0 += TILE) {
      const i1 = Math.min(rows, i0 + TILE);
      for (let j0 = 0; j0 < cols; j0 += TILE) {
        const j1 = Math.min(cols, j0 + TILE);
        for (let i = i0; i < i1; i++) {
          let s = base + i * cols + j0;
          let d = base + j0 * rows + i;
          for (let j = j0; j < j1; j++, s++, d += rows) dst[d] = src[s]!;
        }
      }
    }
  }
  return out;
}

const shapeBytes = (s: number[]): Uint8Array => new Uint8Array(new Int32Array(s).buffer);

/** [bx, P, K] · [by, K, Q] (no transposes; bx, by equal or 1) -> [max(bx, by), P, Q] with XNNPACK products only. */
function productNN(backend: WasmBackend, mm: WasmMatMul, x: TensorInfo, bx: number, y: TensorInfo, by: number, p: number, k: number, q: number): TensorInfo {
  const batch = Math.max(bx, by);
  const out = backend.makeOutput([batch, p, q], 'float32');
  const xId = backend.dataIdMap.get(x.dataId).id;
  const yId = backend.dataIdMap.get(y.dataId).id;
  const outId = backend.dataIdMap.get(out.dataId).id;
  if (by === 1) {
    // The shared right operand: fold the batch into the rows.
    mm(xId, shapeBytes([1, bx * p, k]), 3, yId, shapeBytes([1, k, q]), 3, false, false, outId);
    return out;
  }
  const xOff = backend.dataIdMap.get(x.dataId).memoryOffset;
  const yOff = backend.dataIdMap.get(y.dataId).memoryOffset;
  const outOff = backend.dataIdMap.get(out.dataId).memoryOffset;
  const view = (offset: number, size: number): number => {
    const id = backend.dataIdNextNumber++;
    backend.wasm.tfjs.registerTensor(id, size, offset);
    return id;
  };
  const xs = shapeBytes([1, p, k]);
  const ys = shapeBytes([1, k, q]);
  for (let i = 0; i < batch; i++) {
    const ids = [
      bx === 1 ? xId : view(xOff + 4 * i * p * k, p * k),
      view(yOff + 4 * i * k * q, k * q),
      view(outOff + 4 * i * p * q, p * q),
    ] as const;
    mm(ids[0], xs, 3, ids[1], ys, 3, false, false, ids[2]);
    // Releases the ids (and XNNPACK's operator cached on the right operand); the memory belongs to x, y, out.
    for (const id of ids) if (id !== xId) backend.wasm.tfjs.disposeData(id);
  }
  return out;
}

export function makeBatchMatMulConfig(original: KernelConfig): KernelConfig {
  let mm: WasmMatMul | null = null;
  const batchMatMul: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const backend = args.backend as unknown as WasmBackend;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return original.kernelFunc(args);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const ba = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const bb = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const ka = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (ka !== kb || (ba !== bb && ba !== 1 && bb !== 1) || m * n * ka === 0 || tf.util.sizeFromShape(outer) !== Math.max(ba, bb)) {
      return original.kernelFunc(args); // errors and empty products: the original's messages and behaviour
    }
    mm ??= backend.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']) as unknown as WasmMatMul;
    const k = ka;
    const batch = Math.max(ba, bb);
    // Elements copied: direct = op(A)·op(B); swapped = (op(B)ᵀ·op(A)ᵀ)ᵀ (its operands are transposed where op is not).
    const direct = (transposeA ? ba * m * k : 0) + (transposeB ? bb * k * n : 0);
    const swapped = (transposeB ? 0 : bb * k * n) + (transposeA ? 0 : ba * m * k) + batch * m * n;
    const temps: TensorInfo[] = [];
    const tmp = (t: TensorInfo): TensorInfo => (temps.push(t), t);
    let out: TensorInfo;
    try {
      if (direct <= swapped) {
        const x = transposeA ? tmp(transposeInner(backend, a, ba, k, m)) : a; // [ba, m, k]
        const y = transposeB ? tmp(transposeInner(backend, b, bb, n, k)) : b; // [bb, k, n]
        out = productNN(backend, mm, x, ba, y, bb, m, k, n);
      } else {
        const x = transposeB ? b : tmp(transposeInner(backend, b, bb, k, n)); // op(B)ᵀ [bb, n, k]
        const y = transposeA ? a : tmp(transposeInner(backend, a, ba, m, k)); // op(A)ᵀ [ba, k, m]
        const t = tmp(productNN(backend, mm, x, bb, y, ba, n, k, m)); // [batch, n, m]
        out = transposeInner(backend, t, batch, n, m);
      }
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
    return { dataId: out.dataId, shape: [...outer, m, n], dtype: 'float32' };
  };
  return { ...original, kernelFunc: batchMatMul };
}
