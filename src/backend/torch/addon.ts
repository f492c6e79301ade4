// Loads the optional libtorch N-API addon (native/build/Release/detclip_torch.node). Ops take and return
// native tensor ids; dtypes are TF.js names ('float32' | 'int32' | 'bool').
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Id = number;
type Opt = Id | null;
type DType = 'float32' | 'int32' | 'bool';
export interface TorchInfo { torch: string; threads: number; blas: string; mkldnn: boolean; parallel: string; allocator: string }

export interface TorchAddon {
  create(values: Float32Array | Int32Array | Uint8Array, shape: number[]): Id;
  read(id: Id): Float32Array | Int32Array | Uint8Array;
  shape(id: Id): number[];
  dispose(id: Id): boolean;
  count(): number;
  bytes(): number;
  setThreads(n: number): void;
  threads(): number;
  info(): TorchInfo;
  unary(x: Id, op: string, dtype: DType): Id;
  binary(a: Id, b: Id, op: string, dtype: DType): Id;
  unaryParam(x: Id, op: string, a: number, b: number, dtype: DType): Id;
  addN(xs: Id[], dtype: DType): Id;
  select(c: Id, t: Id, e: Id, dtype: DType): Id;
  cast(x: Id, dtype: DType): Id;
  fill(shape: number[], value: number, dtype: DType): Id;
  reduce(x: Id, axes: number[], keepDims: boolean, op: string, dtype: DType): Id;
  argMinMax(x: Id, axis: number, isMax: boolean): Id;
  softmax(x: Id, dim: number): Id;
  cumsum(x: Id, axis: number, exclusive: boolean, reverse: boolean, dtype: DType): Id;
  reshape(x: Id, shape: number[]): Id;
  transpose(x: Id, perm: number[]): Id;
  slice(x: Id, begin: number[], size: number[]): Id;
  stridedSlice(x: Id, begin: number[], end: number[], strides: number[], outShape: number[]): Id;
  concat(xs: Id[], axis: number, dtype: DType): Id;
  stack(xs: Id[], axis: number, dtype: DType): Id;
  unstack(x: Id, axis: number): Id[];
  splitV(x: Id, sizes: number[], axis: number): Id[];
  pad(x: Id, paddings: number[], value: number): Id;
  tile(x: Id, reps: number[]): Id;
  reverse(x: Id, dims: number[]): Id;
  gather(x: Id, indices: Id, axis: number, outShape: number[]): Id;
  scatterNd(indices: Id, updates: Id, shape: number[]): Id;
  unsortedSegmentSum(x: Id, ids: Id, n: number): Id;
  sparseSegmentReduce(data: Id, indices: Id, segmentIds: Id, mean: boolean): Id;
  oneHot(indices: Id, depth: number, on: number, off: number, dtype: DType): Id;
  conv2d(x: Id, w: Id, bias: Opt, stride: number[], dilation: number[], pad: number[], groups: number,
    activation: string, alpha: number, prelu: Opt): Id;
  conv2dBackpropInput(dy: Id, w: Id, inputShape: number[], stride: number[], dilation: number[], pad: number[], groups: number): Id;
  conv2dBackpropFilter(x: Id, dy: Id, filterShape: number[], stride: number[], dilation: number[], pad: number[], groups: number): Id;
  matmul(a: Id, b: Id, transposeA: boolean, transposeB: boolean, bias?: Opt, activation?: string, alpha?: number, prelu?: Opt): Id;
  maxPool(x: Id, kernel: number[], stride: number[], dilation: number[], pad: number[]): Id;
  maxPoolGrad(dy: Id, x: Id, kernel: number[], stride: number[], dilation: number[], pad: number[]): Id;
  resizeNearest(x: Id, h: number, w: number, halfPixelCenters: boolean): Id;
  resizeNearestGrad(dy: Id, h: number, w: number, halfPixelCenters: boolean): Id;
  einsum(equation: string, xs: Id[]): Id;
  batchNorm(x: Id, mean: Id, variance: Id, offset: Opt, scale: Opt, eps: number): Id;
  adamw(p: Id, g: Id, m: Id, v: Id, beta1: number, beta2: number, eps: number, decayFactor: number, stepSize: number, bc2Sqrt: number): Id[];
}

/** The built addon; DETCLIP_TORCH_ADDON points elsewhere (tests use it to load a broken one). */
export const ADDON_PATH = process.env.DETCLIP_TORCH_ADDON ?? path.resolve(
  path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native', 'build', 'Release', 'detclip_torch.node');

/** Functions this version of the TS side calls; an addon built from older sources lacks some. */
const REQUIRED = ['create', 'read', 'info', 'unary', 'binary', 'reduce', 'conv2d', 'conv2dBackpropFilter', 'adamw', 'sparseSegmentReduce'];

let cached: { addon: TorchAddon | null; reason: string } | null = null;

/** Loads the addon once; addon is null and reason says why (one line) when it cannot be loaded. */
export function loadTorchAddon(): { addon: TorchAddon | null; reason: string } {
  if (cached) return cached;
  try {
    // libgomp reads this once, when it loads: idle OpenMP workers sleep instead of spinning on the cores the
    // JS thread, the image loaders and GC need (spinning made the tiny train step 268 -> 450 ms, noisy).
    process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
    const req = createRequire(import.meta.url);
    const addon = req(ADDON_PATH) as TorchAddon;
    const missing = REQUIRED.filter((k) => typeof (addon as unknown as Record<string, unknown>)[k] !== 'function');
    cached = missing.length > 0
      ? { addon: null, reason: `the built addon is older than the sources (no ${missing.join(', ')}); rebuild with npm run build:native` }
      : { addon, reason: '' };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    const hint = /NODE_MODULE_VERSION|undefined symbol|cannot open shared object/.test(msg) ? ' (rebuild with npm run build:native)' : '';
    cached = { addon: null, reason: msg + hint };
  }
  return cached;
}
