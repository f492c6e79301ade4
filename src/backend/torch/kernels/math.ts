// Element-wise, reduction, softmax and cumsum kernels of the torch backend.
import * as tf from '@tensorflow/tfjs';
import { dt, ids, listInputs, reg, type Args, type DType, type T } from './util.ts';

const UNARY_FLOAT = ['Exp', 'Expm1', 'Log', 'Log1p', 'Sqrt', 'Rsqrt', 'Sigmoid', 'Tanh', 'Softplus', 'Erf', 'Floor', 'Ceil',
  'Round', 'Reciprocal', 'Sin', 'Cos', 'Elu', 'Selu'];
const UNARY_SAME = ['Abs', 'Neg', 'Square', 'Sign', 'Relu', 'Relu6'];
const UNARY_BOOL = ['IsNan', 'IsInf', 'IsFinite', 'LogicalNot'];
const BINARY_BOOL = ['Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr'];
const BINARY_FLOAT = ['RealDiv', 'Atan2'];
const BINARY_SAME = ['Add', 'Sub', 'Multiply', 'FloorDiv', 'Maximum', 'Minimum', 'Pow', 'SquaredDifference', 'Mod'];

function unary(name: string, out: (x: T) => DType): void {
  reg(name, ({ inputs, backend: b }: Args) => {
    const x = inputs.x!;
    const dtype = out(x);
    return b.fromNative(b.addon.unary(b.nativeOf(x), name, dtype), x.shape.slice(), dtype);
  });
}

function binary(name: string, out: (a: T, y: T) => DType, names: [string, string] = ['a', 'b']): void {
  reg(name, ({ inputs, backend: b }: Args) => {
    const a = inputs[names[0]]!;
    const y = inputs[names[1]]!;
    const dtype = out(a, y);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, y.shape);
    return b.fromNative(b.addon.binary(b.nativeOf(a), b.nativeOf(y), name, dtype), shape, dtype);
  });
}

function unaryParam(name: string, params: (attrs: Record<string, number>) => [number, number]): void {
  reg(name, ({ inputs, backend: b, attrs }: Args<Record<string, number>>) => {
    const x = inputs.x!;
    const [p, q] = params(attrs);
    const dtype = name === 'ClipByValue' ? dt(x.dtype) : 'float32';
    return b.fromNative(b.addon.unaryParam(b.nativeOf(x), name, p, q, dtype), x.shape.slice(), dtype);
  });
}

/** Output shape of a reduction over `axes`. */
function reducedShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  const [out] = tf.backend_util.computeOutAndReduceShapes(shape, axes);
  return keepDims ? tf.backend_util.expandShapeToKeepDim(out, axes) : out;
}

function reduce(name: string, axisAttr: 'axis' | 'reductionIndices', out: (x: T) => DType): void {
  reg(name, ({ inputs, backend: b, attrs }: Args<Record<string, unknown>>) => {
    const x = inputs.x!;
    const axes = tf.util.parseAxisParam(attrs[axisAttr] as number | number[], x.shape);
    const keepDims = !!attrs.keepDims;
    const dtype = out(x);
    return b.fromNative(b.addon.reduce(b.nativeOf(x), axes, keepDims, name, dtype), reducedShape(x.shape, axes, keepDims), dtype);
  });
}

const same = (x: T): DType => dt(x.dtype);
const intIfBool = (x: T): DType => (x.dtype === 'bool' ? 'int32' : dt(x.dtype));

export function registerMathKernels(): void {
  for (const n of UNARY_FLOAT) unary(n, () => 'float32');
  for (const n of UNARY_SAME) unary(n, same);
  for (const n of UNARY_BOOL) unary(n, () => 'bool');
  for (const n of BINARY_BOOL) binary(n, () => 'bool');
  for (const n of BINARY_FLOAT) binary(n, () => 'float32');
  for (const n of BINARY_SAME) binary(n, (a, y) => dt(tf.upcastType(a.dtype, y.dtype)));
  binary('Prelu', () => 'float32', ['x', 'alpha']);
  unaryParam('Step', (a) => [a.alpha ?? 0, 0]);
  unaryParam('LeakyRelu', (a) => [a.alpha ?? 0.2, 0]);
  unaryParam('ClipByValue', (a) => [a.clipValueMin!, a.clipValueMax!]);
  reduce('Sum', 'axis', intIfBool);
  reduce('Mean', 'axis', () => 'float32');
  reduce('Prod', 'axis', intIfBool);
  reduce('Max', 'reductionIndices', same);
  reduce('Min', 'axis', same);
  reduce('All', 'axis', () => 'bool');
  reduce('Any', 'axis', () => 'bool');
  for (const [name, isMax] of [['ArgMax', true], ['ArgMin', false]] as const) {
    reg(name, ({ inputs, backend: b, attrs }: Args<{ axis: number | number[] }>) => {
      const x = inputs.x!;
      const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
      return b.fromNative(b.addon.argMinMax(b.nativeOf(x), axis, isMax), reducedShape(x.shape, [axis], false), 'int32');
    });
  }
  reg('AddN', ({ inputs, backend: b }: Args) => {
    const xs = listInputs(inputs);
    const dtype = dt(xs[0]!.dtype);
    return b.fromNative(b.addon.addN(ids(b, xs), dtype), xs[0]!.shape.slice(), dtype);
  });
  reg('Select', ({ inputs, backend: b }: Args) => {
    const { condition, t, e } = inputs as { condition: T; t: T; e: T };
    const dtype = dt(tf.upcastType(t.dtype, e.dtype));
    return b.fromNative(b.addon.select(b.nativeOf(condition), b.nativeOf(t), b.nativeOf(e), dtype), t.shape.slice(), dtype);
  });
  reg('Cast', ({ inputs, backend: b, attrs }: Args<{ dtype: tf.DataType }>) => {
    const x = inputs.x!;
    const dtype = dt(attrs.dtype);
    return b.fromNative(b.addon.cast(b.nativeOf(x), dtype), x.shape.slice(), dtype);
  });
  reg('Fill', ({ backend: b, attrs }: Args<{ shape: number[]; value: number; dtype: tf.DataType }>) => {
    const dtype = dt(attrs.dtype ?? 'float32');
    return b.fromNative(b.addon.fill(attrs.shape, Number(attrs.value), dtype), attrs.shape.slice(), dtype);
  });
  for (const [name, value] of [['ZerosLike', 0], ['OnesLike', 1]] as const) {
    reg(name, ({ inputs, backend: b }: Args) => {
      const x = inputs.x!;
      const dtype = dt(x.dtype);
      return b.fromNative(b.addon.fill(x.shape, value, dtype), x.shape.slice(), dtype);
    });
  }
  reg('Softmax', ({ inputs, backend: b, attrs }: Args<{ dim: number }>) => {
    const x = inputs.logits!;
    const dim = attrs.dim < 0 ? x.shape.length + attrs.dim : attrs.dim;
    return b.fromNative(b.addon.softmax(b.nativeOf(x), dim), x.shape.slice(), 'float32');
  });
  reg('Cumsum', ({ inputs, backend: b, attrs }: Args<{ axis: number; exclusive: boolean; reverse: boolean }>) => {
    const x = inputs.x!;
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
    const dtype = intIfBool(x);
    return b.fromNative(b.addon.cumsum(b.nativeOf(x), axis, !!attrs.exclusive, !!attrs.reverse, dtype), x.shape.slice(), dtype);
  });
}
