// Kernel registrations for the 'torch' backend. Each forwards to one addon op.
import * as tf from '@tensorflow/tfjs';
import type { TorchBackend } from './backend.ts';

export const TORCH = 'torch';
type KF = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) => tf.TensorInfo;
const reg = (kernelName: string, kernelFunc: KF): void => {
  tf.registerKernel({ kernelName, backendName: TORCH, kernelFunc: kernelFunc as tf.KernelFunc });
};
const shapeOf = (b: TorchBackend, nid: number): number[] => Array.from(b.addon.shape(nid));

function binary(name: string, op: 'add' | 'sub' | 'mul' | 'div', outFloat = false): void {
  reg(name, ({ inputs, backend }) => {
    const b = backend as TorchBackend;
    const { a, b: y } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const dtype = outFloat ? 'float32' : tf.upcastType(a.dtype, y.dtype);
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, y.shape);
    let id = b.addon[op](b.nativeOf(a), b.nativeOf(y));
    if (dtype === 'float32' && (a.dtype !== 'float32' || y.dtype !== 'float32') && op !== 'div') {
      const f = b.addon.toFloat(id); b.addon.dispose(id); id = f;
    }
    return b.fromNative(id, shape, dtype);
  });
}

function unary(name: string, op: 'relu' | 'exp' | 'log' | 'sigmoid'): void {
  reg(name, ({ inputs, backend }) => {
    const b = backend as TorchBackend;
    const x = inputs.x as tf.TensorInfo;
    let xid = b.nativeOf(x);
    let tmp = -1;
    if (x.dtype !== 'float32' && op !== 'relu') { tmp = b.addon.toFloat(xid); xid = tmp; }
    const id = b.addon[op](xid);
    if (tmp >= 0) b.addon.dispose(tmp);
    return b.fromNative(id, x.shape.slice(), op === 'relu' ? x.dtype : 'float32');
  });
}

export function registerTorchKernels(): void {
  binary('Add', 'add');
  binary('Sub', 'sub');
  binary('Multiply', 'mul');
  binary('RealDiv', 'div', true);
  unary('Relu', 'relu');
  unary('Exp', 'exp');
  unary('Log', 'log');
  unary('Sigmoid', 'sigmoid');
  reg('BatchMatMul', ({ inputs, backend, attrs }) => {
    const b = backend as TorchBackend;
    const { a, b: y } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const id = b.addon.batchMatMul(b.nativeOf(a), b.nativeOf(y), !!transposeA, !!transposeB);
    return b.fromNative(id, shapeOf(b, id), 'float32');
  });
  reg('Sum', ({ inputs, backend, attrs }) => {
    const b = backend as TorchBackend;
    const x = inputs.x as tf.TensorInfo;
    const { axis, keepDims } = (attrs ?? {}) as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const id = b.addon.sum(b.nativeOf(x), axes, !!keepDims);
    return b.fromNative(id, shapeOf(b, id), x.dtype === 'bool' ? 'int32' : x.dtype);
  });
  reg('Reshape', ({ inputs, backend, attrs }) => {
    const b = backend as TorchBackend;
    const x = inputs.x as tf.TensorInfo;
    const { shape } = attrs as { shape: number[] };
    const size = tf.util.sizeFromShape(x.shape);
    const out = tf.util.inferFromImplicitShape(shape, size);
    return b.fromNative(b.addon.reshape(b.nativeOf(x), out), out, x.dtype);
  });
  reg('Identity', ({ inputs, backend }) => {
    const b = backend as TorchBackend;
    const x = inputs.x as tf.TensorInfo;
    return b.fromNative(b.addon.clone(b.nativeOf(x)), x.shape.slice(), x.dtype);
  });
  // Step (needed by Relu's gradient): computed on the host from a native read, until the addon has it.
  reg('Step', ({ inputs, backend, attrs }) => {
    const b = backend as TorchBackend;
    const x = inputs.x as tf.TensorInfo;
    const alpha = ((attrs ?? {}) as { alpha?: number }).alpha ?? 0;
    const v = b.readSync(x.dataId) as Float32Array;
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = Number.isNaN(v[i]!) ? NaN : v[i]! > 0 ? 1 : alpha;
    return b.fromNative(b.addon.create(out, x.shape.slice()), x.shape.slice(), 'float32');
  });
  reg('Cast', ({ inputs, backend, attrs }) => {
    const b = backend as TorchBackend;
    const x = inputs.x as tf.TensorInfo;
    const { dtype } = attrs as { dtype: tf.DataType };
    if (dtype !== 'float32') throw new Error(`torch backend: Cast to ${dtype} is not implemented (float32 only)`);
    return b.fromNative(b.addon.toFloat(b.nativeOf(x)), x.shape.slice(), 'float32');
  });
}
