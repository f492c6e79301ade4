// Conformance cases for the torch backend: each names the kernels it must reach, its inputs (model-like shapes)
// and the op. torchKernels.test.ts runs them on wasm and torch, forward and gradient, and checks (with
// tf.profile) that every native kernel is reached by some case.
import * as tf from '@tensorflow/tfjs';

export interface Input { s: number[]; d?: 'float32' | 'int32' | 'bool'; lo?: number; hi?: number; v?: number[] }
export interface Case {
  name: string;
  kernels: string[];
  inputs: Input[];
  f: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  grad?: boolean; // default: true when every input is float32 and the output is float32
}

const F = (s: number[], lo = -1, hi = 1): Input => ({ s, lo, hi });
const I = (s: number[], lo: number, hi: number): Input => ({ s, d: 'int32', lo, hi });
const Bo = (s: number[]): Input => ({ s, d: 'bool' });
const V = (v: number[], s: number[], d: Input['d'] = 'int32'): Input => ({ s, d, v });
type T4 = tf.Tensor4D;

const unaryCases = (): Case[] => {
  const pos = (n: string) => n === 'Log' || n === 'Log1p' || n === 'Sqrt' || n === 'Rsqrt' || n === 'Reciprocal';
  const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ['Exp', tf.exp], ['Expm1', tf.expm1], ['Log', tf.log], ['Log1p', tf.log1p], ['Sqrt', tf.sqrt], ['Rsqrt', tf.rsqrt],
    ['Sigmoid', tf.sigmoid], ['Tanh', tf.tanh], ['Softplus', tf.softplus], ['Erf', tf.erf], ['Reciprocal', tf.reciprocal],
    ['Sin', tf.sin], ['Cos', tf.cos], ['Elu', tf.elu], ['Selu', tf.selu], ['Abs', tf.abs], ['Neg', tf.neg],
    ['Square', tf.square], ['Relu', tf.relu], ['Relu6', (x) => tf.relu6(tf.mul(x, 8))],
  ];
  const cases: Case[] = ops.map(([n, op]) => ({ name: n, kernels: [n], inputs: [pos(n) ? F([4, 33], 0.2, 3) : F([4, 33], -3, 3)], f: op }));
  for (const [n, op] of [['Floor', tf.floor], ['Ceil', tf.ceil], ['Round', tf.round], ['Sign', tf.sign]] as const) {
    cases.push({ name: n, kernels: [n], inputs: [F([4, 33], -3, 3)], f: op, grad: false });
  }
  cases.push({ name: 'Round half to even', kernels: ['Round'], inputs: [V([0.5, 1.5, 2.5, -0.5, -1.5], [5], 'float32')], f: tf.round, grad: false });
  cases.push({ name: 'Abs int32', kernels: ['Abs'], inputs: [I([7], -5, 5)], f: tf.abs });
  cases.push({ name: 'IsNan/IsInf/IsFinite', kernels: ['IsNan', 'IsInf', 'IsFinite'], inputs: [V([1, NaN, Infinity, -Infinity, 0], [5], 'float32')],
    f: (x) => [tf.isNaN(x), tf.isInf(x), tf.isFinite(x)] });
  cases.push({ name: 'LogicalNot', kernels: ['LogicalNot'], inputs: [Bo([9])], f: tf.logicalNot });
  cases.push({ name: 'Step', kernels: ['Step'], inputs: [F([40], -2, 2)], f: (x) => tf.step(x, 0.3), grad: false });
  cases.push({ name: 'LeakyRelu', kernels: ['LeakyRelu'], inputs: [F([40], -2, 2)], f: (x) => tf.leakyRelu(x, 0.1) });
  cases.push({ name: 'ClipByValue', kernels: ['ClipByValue'], inputs: [F([40], -2, 2)], f: (x) => tf.clipByValue(x, -0.5, 0.7) });
  return cases;
};

const binaryCases = (): Case[] => {
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['Add', tf.add], ['Sub', tf.sub], ['Multiply', tf.mul], ['RealDiv', tf.div], ['Atan2', tf.atan2],
  ];
  const cases: Case[] = [];
  // tfjs-core's Maximum/Minimum/SquaredDifference gradients do not reduce broadcast axes (on any backend): same shapes.
  for (const [n, op] of [['Maximum', tf.maximum], ['Minimum', tf.minimum], ['SquaredDifference', tf.squaredDifference]] as const) {
    cases.push({ name: n, kernels: [n], inputs: [F([5, 8]), F([5, 8], 0.5, 2)], f: op });
  }
  for (const [n, op] of ops) {
    cases.push({ name: `${n} broadcast`, kernels: [n], inputs: [F([2, 1, 5, 8]), F([3, 1, 8], 0.5, 2)], f: op });
  }
  cases.push({ name: 'Pow', kernels: ['Pow'], inputs: [F([3, 8], 0.5, 2), F([8], -1.5, 2)], f: tf.pow });
  cases.push({ name: 'Prelu', kernels: ['Prelu'], inputs: [F([3, 8]), F([8], 0, 0.5)], f: (x, a) => tf.prelu(x, a) });
  cases.push({ name: 'FloorDiv/Mod float', kernels: ['FloorDiv', 'Mod'], inputs: [F([30], -5, 5), F([30], 0.5, 2)], f: (a, b) => [tf.floorDiv(a, b), tf.mod(a, b)], grad: false });
  cases.push({ name: 'int32 arithmetic', kernels: ['Add', 'Sub', 'Multiply', 'FloorDiv', 'Mod', 'Maximum', 'Pow'],
    inputs: [I([20], -9, 9), I([20], 1, 4)], f: (a, b) => [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.floorDiv(a, b), tf.mod(a, b), tf.maximum(a, b), tf.pow(b, b)] });
  cases.push({ name: 'comparisons', kernels: ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual'],
    inputs: [I([4, 6], 0, 3), I([6], 0, 3)], f: (a, b) => [tf.equal(a, b), tf.notEqual(a, b), tf.greater(a, b), tf.greaterEqual(a, b), tf.less(a, b), tf.lessEqual(a, b)] });
  cases.push({ name: 'logical', kernels: ['LogicalAnd', 'LogicalOr'], inputs: [Bo([4, 6]), Bo([6])],
    f: (a, b) => [tf.logicalAnd(a, b), tf.logicalOr(a, b), tf.logicalXor(a, b)] });
  return cases;
};

const reduceCases = (): Case[] => [
  { name: 'Sum', kernels: ['Sum'], inputs: [F([3, 4, 5])], f: (x) => [tf.sum(x), tf.sum(x, [0, 2], true), tf.sum(x, -1)] },
  { name: 'Sum int32/bool', kernels: ['Sum'], inputs: [I([3, 4], -5, 5), Bo([3, 4])], f: (x, b) => [tf.sum(x, 1), tf.sum(b, 0)] },
  { name: 'Mean', kernels: ['Mean'], inputs: [F([3, 4, 5])], f: (x) => [tf.mean(x, [1, 2]), tf.mean(x, -1, true)] },
  { name: 'Max/Min', kernels: ['Max', 'Min'], inputs: [F([3, 4, 5])], f: (x) => [tf.max(x, 1), tf.min(x, [0, 2], true)] },
  { name: 'Prod', kernels: ['Prod'], inputs: [F([3, 4, 5], 0.5, 1.5)], f: (x) => tf.prod(x, [0, 2]) },
  { name: 'All/Any', kernels: ['All', 'Any'], inputs: [Bo([3, 4, 5])], f: (x) => [tf.all(x, [0, 2]), tf.any(x, 1, true)] },
  { name: 'ArgMax/ArgMin ties', kernels: ['ArgMax', 'ArgMin'], inputs: [I([6, 5], 0, 3)], f: (x) => [tf.argMax(x, 1), tf.argMin(x, 0)] },
  { name: 'Softmax', kernels: ['Softmax'], inputs: [F([6, 20], -4, 4)], f: (x) => tf.softmax(x) },
  { name: 'Cumsum', kernels: ['Cumsum'], inputs: [F([4, 9])], f: (x) => [tf.cumsum(x, 1), tf.cumsum(x, 1, true, true)] },
  { name: 'AddN', kernels: ['AddN'], inputs: [F([3, 5]), F([3, 5]), F([3, 5])], f: (a, b, c) => tf.addN([a, b, c]) },
  { name: 'Select', kernels: ['Select'], inputs: [Bo([4, 6]), F([4, 6]), F([4, 6])], f: (c, a, b) => tf.where(c, a, b) },
  { name: 'Cast', kernels: ['Cast'], inputs: [F([12], -3, 3), Bo([5])],
    f: (x, b) => [tf.cast(x, 'int32'), tf.cast(tf.cast(x, 'int32'), 'bool'), tf.cast(b, 'float32'), tf.cast(tf.cast(x, 'int32'), 'float32')] },
  { name: 'Fill/ZerosLike/OnesLike', kernels: ['Fill', 'ZerosLike', 'OnesLike'], inputs: [I([3, 2], 0, 5)],
    f: (x) => [tf.fill([2, 3], 1.5), tf.zerosLike(x), tf.onesLike(x)] },
];

const shapeCases = (): Case[] => [
  { name: 'Reshape/Identity', kernels: ['Reshape', 'Identity'], inputs: [F([3, 4, 5])], f: (x) => [tf.reshape(x, [4, -1]), tf.clone(x)] },
  { name: 'Transpose', kernels: ['Transpose'], inputs: [F([2, 3, 4, 5])], f: (x) => tf.transpose(x, [0, 3, 1, 2]) },
  { name: 'Slice', kernels: ['Slice'], inputs: [F([4, 6, 5])], f: (x) => tf.slice(x, [1, 2, 0], [2, -1, 3]) },
  { name: 'StridedSlice', kernels: ['StridedSlice'], inputs: [F([6, 8, 4])], f: (x) => [tf.stridedSlice(x, [1, 0, 0], [5, 8, 4], [2, 3, 1]), tf.stridedSlice(x, [0, -1], [0, 0], [1, -2], 1, 1)], grad: false },
  { name: 'Concat', kernels: ['Concat'], inputs: [F([2, 3, 4]), F([2, 5, 4])], f: (a, b) => tf.concat([a, b], 1) },
  { name: 'Pack/Unpack', kernels: ['Pack', 'Unpack'], inputs: [F([3, 4]), F([3, 4])], f: (a, b) => [tf.stack([a, b], 1), ...tf.unstack(a, 1)] },
  { name: 'SplitV', kernels: ['SplitV'], inputs: [F([4, 10])], f: (x) => [...tf.split(x, [3, 7], 1), ...tf.split(x, 2, 0)] },
  { name: 'PadV2', kernels: ['PadV2'], inputs: [F([2, 3, 4, 2])], f: (x) => tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]], 0.5) },
  { name: 'Tile', kernels: ['Tile'], inputs: [F([2, 3])], f: (x) => tf.tile(x, [3, 2]) },
  { name: 'Reverse', kernels: ['Reverse'], inputs: [F([3, 4, 5])], f: (x) => tf.reverse(x, [0, 2]) },
  { name: 'GatherV2', kernels: ['GatherV2'], inputs: [F([10, 6]), I([4, 3], 0, 9)], f: (x, i) => [tf.gather(x, i), tf.gather(x, tf.slice(i, [0, 0], [1, 3]).reshape([3]).mod(tf.scalar(6, 'int32')), 1)] },
  { name: 'ScatterNd', kernels: ['ScatterNd'], inputs: [I([7, 2], 0, 3), F([7, 5])], f: (i, u) => tf.scatterND(i, u, [4, 4, 5]) },
  { name: 'UnsortedSegmentSum', kernels: ['UnsortedSegmentSum'], inputs: [F([9, 4]), I([9], 0, 4)], f: (x, s) => tf.unsortedSegmentSum(x, s as tf.Tensor1D, 5) },
  { name: 'SparseSegmentSum/Mean', kernels: ['SparseSegmentSum', 'SparseSegmentMean'], inputs: [F([6, 4]), V([0, 2, 2, 5, 1], [5]), V([0, 0, 1, 3, 3], [5])],
    f: (d, i, s) => [tf.sparse.sparseSegmentSum(d, i as tf.Tensor1D, s as tf.Tensor1D), tf.sparse.sparseSegmentMean(d, i as tf.Tensor1D, s as tf.Tensor1D)], grad: false },
  { name: 'OneHot', kernels: ['OneHot'], inputs: [I([7], -1, 6), I([7], 0, 4)], f: (i, j) => [tf.oneHot(i, 5), tf.oneHot(j, 5, 2, -1)] }, // wasm's float32 OneHot writes int bits
];

const conv = (s: number | [number, number], p: 'same' | 'valid', d = 1) => (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as T4, w as T4, s, p, 'NHWC', d);

const nnCases = (): Case[] => [
  { name: 'Conv2D 3x3 same s1 (+ both backprops)', kernels: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'], inputs: [F([2, 16, 16, 8]), F([3, 3, 8, 16], -0.3, 0.3)], f: conv(1, 'same') },
  { name: 'Conv2D 3x3 same s2 (asymmetric pad)', kernels: ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'], inputs: [F([2, 16, 16, 8]), F([3, 3, 8, 16], -0.3, 0.3)], f: conv(2, 'same') },
  { name: 'Conv2D 7x7 s2 stem, odd size', kernels: ['Conv2D'], inputs: [F([1, 33, 31, 3]), F([7, 7, 3, 8], -0.3, 0.3)], f: conv(2, 'same') },
  { name: 'Conv2D 1x1 valid, dilated 3x3', kernels: ['Conv2D'], inputs: [F([2, 9, 9, 6]), F([1, 1, 6, 4]), F([3, 3, 6, 4], -0.3, 0.3)],
    f: (x, w1, w3) => [conv(1, 'valid')(x, w1), conv(1, 'same', 2)(x, w3), conv([2, 1], 'valid')(x, w3)], grad: false }, // tfjs: no dilated grads
  { name: 'FusedConv2D bias+relu', kernels: ['FusedConv2D'], inputs: [F([2, 12, 12, 8]), F([3, 3, 8, 8], -0.3, 0.3), F([8])],
    f: (x, w, b) => tf.fused.conv2d({ x: x as T4, filter: w as T4, strides: 1, pad: 'same', bias: b, activation: 'relu' }) },
  { name: 'FusedConv2D s2 sigmoid', kernels: ['FusedConv2D'], inputs: [F([1, 12, 12, 4]), F([3, 3, 4, 8], -0.3, 0.3), F([8])],
    f: (x, w, b) => tf.fused.conv2d({ x: x as T4, filter: w as T4, strides: 2, pad: 'same', bias: b, activation: 'sigmoid' }), grad: false },
  { name: 'DepthwiseConv2dNative (+ backprops)', kernels: ['DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'],
    inputs: [F([2, 10, 10, 6]), F([3, 3, 6, 2], -0.3, 0.3)], f: (x, w) => tf.depthwiseConv2d(x as T4, w as T4, 1, 'same') },
  { name: 'FusedDepthwiseConv2D', kernels: ['FusedDepthwiseConv2D'], inputs: [F([2, 10, 10, 6]), F([3, 3, 6, 1], -0.3, 0.3), F([6])],
    f: (x, w, b) => tf.fused.depthwiseConv2d({ x: x as T4, filter: w as T4, strides: 2, pad: 'same', bias: b, activation: 'relu' }), grad: false },
  { name: 'BatchMatMul', kernels: ['BatchMatMul'], inputs: [F([4, 16, 32]), F([4, 32, 24]), F([4, 24, 32])],
    f: (a, b, c) => [tf.matMul(a, b), tf.matMul(a, c, false, true), tf.matMul(b, c, true, true)] },
  { name: 'BatchMatMul broadcast', kernels: ['BatchMatMul'], inputs: [F([3, 16, 32]), F([32, 8])], f: (a, b) => tf.matMul(a, b), grad: false }, // tfjs grad does not reduce
  // wasm's _FusedMatMul is wrong with transposeB and a bias together (tfjs 4.22): not compared.
  { name: '_FusedMatMul', kernels: ['_FusedMatMul'], inputs: [F([16, 32]), F([32, 24]), F([24]), F([24, 32])],
    f: (a, b, c, bt) => [tf.fused.matMul({ a, b, bias: c, activation: 'relu' }), tf.fused.matMul({ a, b: bt, transposeB: true, activation: 'relu' })] },
  // wasm's MaxPoolGrad disagrees with a hand-written loop (tfjs 4.22): torchKernels.test.ts checks torch's by hand.
  { name: 'MaxPool 3x3 s2 same', kernels: ['MaxPool'], inputs: [F([2, 15, 15, 4])], f: (x) => tf.maxPool(x as T4, 3, 2, 'same'), grad: false },
  { name: 'MaxPool valid', kernels: ['MaxPool'], inputs: [F([2, 8, 8, 4])], f: (x) => tf.maxPool(x as T4, 2, 2, 'valid'), grad: false },
  { name: 'ResizeNearestNeighbor (+grad)', kernels: ['ResizeNearestNeighbor', 'ResizeNearestNeighborGrad'], inputs: [F([2, 5, 7, 3])],
    f: (x) => [tf.image.resizeNearestNeighbor(x as T4, [10, 14]), tf.image.resizeNearestNeighbor(x as T4, [8, 9])] },
  // wasm's ResizeNearestNeighborGrad is wrong with halfPixelCenters (tfjs 4.22): forward only.
  { name: 'ResizeNearestNeighbor half-pixel', kernels: ['ResizeNearestNeighbor'], inputs: [F([2, 5, 7, 3])],
    f: (x) => tf.image.resizeNearestNeighbor(x as T4, [8, 9], false, true), grad: false },
  { name: 'FusedBatchNorm', kernels: ['FusedBatchNorm'], inputs: [F([2, 4, 4, 6]), F([6]), F([6], 0.5, 2), F([6]), F([6])],
    f: (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 1e-3) },
  { name: 'Einsum', kernels: ['Einsum'], inputs: [F([3, 4, 5]), F([3, 5, 6])], f: (a, b) => tf.einsum('bij,bjk->bik', a, b), grad: false },
  { name: 'DetclipAdamWUpdate', kernels: ['DetclipAdamWUpdate'], inputs: [F([7, 9]), F([7, 9]), F([7, 9]), F([7, 9], 0, 1)],
    f: (p, g, m, v) => tf.engine().runKernel('DetclipAdamWUpdate', { p, g, m, v },
      { beta1: 0.9, beta2: 0.999, eps: 1e-8, decayFactor: 1 - 1e-4 * 0.05, stepSize: 1e-3 / (1 - 0.9 ** 3), bc2Sqrt: Math.sqrt(1 - 0.999 ** 3) }) as tf.Tensor[],
    grad: false },
];

export const TORCH_CASES: Case[] = [...unaryCases(), ...binaryCases(), ...reduceCases(), ...shapeCases(), ...nnCases()];
