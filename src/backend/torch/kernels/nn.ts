// Convolution, matmul, pooling, resize, batch norm, einsum and fused AdamW kernels of the torch backend.
// Geometry (output sizes, TF 'SAME' padding) comes from tfjs' own conv/pool info, so shapes agree by design.
import * as tf from '@tensorflow/tfjs';
import { ADAMW_UPDATE, type AdamWUpdateAttrs } from '../../kernels/adamwUpdate.ts';
import type { TorchBackend } from '../backend.ts';
import { runOnWasm } from './fallback.ts';
import { ids, listInputs, optId, reg, type Args, type T } from './util.ts';

type ConvInfo = tf.backend_util.Conv2DInfo;
interface ConvAttrs {
  strides: number | [number, number]; pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW'; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string; leakyreluAlpha?: number; inputShape?: number[]; filterShape?: number[];
}

const geometry = (c: ConvInfo) => ({
  stride: [c.strideHeight, c.strideWidth],
  dilation: [c.dilationHeight, c.dilationWidth],
  pad: [c.padInfo.top, c.padInfo.bottom, c.padInfo.left, c.padInfo.right],
});

function convInfo(xShape: number[], fShape: number[], a: ConvAttrs, depthwise: boolean): ConvInfo {
  const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC');
  return tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], fShape as [number, number, number, number],
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, depthwise, format);
}

/** Depthwise filter [kh, kw, C, M] as a grouped-conv HWIO filter [kh, kw, 1, C·M] (a native view). */
function groupedFilter(b: TorchBackend, f: T): number {
  const [kh, kw, c, m] = f.shape as [number, number, number, number];
  return b.addon.reshape(b.nativeOf(f), [kh, kw, 1, c * m]);
}

function conv(name: string, depthwise: boolean, fused: boolean): void {
  reg(name, (args: Args<ConvAttrs>) => {
    const { inputs, backend: b, attrs } = args;
    const { x, filter, bias, preluActivationWeights } = inputs as Record<string, T>;
    if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return runOnWasm(name, args as never);
    const info = convInfo(x!.shape, filter!.shape, attrs, depthwise);
    const g = geometry(info);
    const w = depthwise ? groupedFilter(b, filter!) : b.nativeOf(filter!);
    try {
      const id = b.addon.conv2d(b.nativeOf(x!), w, optId(b, bias), g.stride, g.dilation, g.pad, depthwise ? info.inChannels : 1,
        fused ? attrs.activation ?? 'linear' : 'linear', attrs.leakyreluAlpha ?? 0, optId(b, preluActivationWeights));
      return b.fromNative(id, info.outShape.slice(), 'float32');
    } finally {
      if (depthwise) b.addon.dispose(w);
    }
  });
}

function convBackpropInput(name: string, depthwise: boolean): void {
  reg(name, (args: Args<ConvAttrs>) => {
    const { inputs, backend: b, attrs } = args;
    const { dy, filter } = inputs as { dy: T; filter: T };
    if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return runOnWasm(name, args as never);
    const inputShape = attrs.inputShape!;
    const g = geometry(convInfo(inputShape, filter.shape, attrs, depthwise));
    const w = depthwise ? groupedFilter(b, filter) : b.nativeOf(filter);
    try {
      const id = b.addon.conv2dBackpropInput(b.nativeOf(dy), w, inputShape, g.stride, g.dilation, g.pad, depthwise ? inputShape[3]! : 1);
      return b.fromNative(id, inputShape.slice(), 'float32');
    } finally {
      if (depthwise) b.addon.dispose(w);
    }
  });
}

function convBackpropFilter(name: string, depthwise: boolean): void {
  reg(name, (args: Args<ConvAttrs>) => {
    const { inputs, backend: b, attrs } = args;
    const { x, dy } = inputs as { x: T; dy: T };
    if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return runOnWasm(name, args as never);
    const fs = attrs.filterShape!;
    const g = geometry(convInfo(x.shape, fs, attrs, depthwise));
    const hwio = depthwise ? [fs[0]!, fs[1]!, 1, fs[2]! * fs[3]!] : fs;
    const id = b.addon.conv2dBackpropFilter(b.nativeOf(x), b.nativeOf(dy), hwio, g.stride, g.dilation, g.pad, depthwise ? fs[2]! : 1);
    if (!depthwise) return b.fromNative(id, fs.slice(), 'float32');
    const r = b.addon.reshape(id, fs);
    b.addon.dispose(id);
    return b.fromNative(r, fs.slice(), 'float32');
  });
}

function matmulShape(a: T, y: T, ta: boolean, tb: boolean): number[] {
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), y.shape.slice(0, -2));
  const m = a.shape[a.shape.length - (ta ? 1 : 2)]!;
  const n = y.shape[y.shape.length - (tb ? 2 : 1)]!;
  return [...outer, m, n];
}

interface PoolAttrs { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' }
const poolInfo = (x: T, a: PoolAttrs) =>
  tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);

export function registerNNKernels(): void {
  conv('Conv2D', false, false);
  conv('FusedConv2D', false, true);
  conv('DepthwiseConv2dNative', true, false);
  conv('FusedDepthwiseConv2D', true, true);
  convBackpropInput('Conv2DBackpropInput', false);
  convBackpropInput('DepthwiseConv2dNativeBackpropInput', true);
  convBackpropFilter('Conv2DBackpropFilter', false);
  convBackpropFilter('DepthwiseConv2dNativeBackpropFilter', true);
  reg('BatchMatMul', ({ inputs, backend: b, attrs }: Args<{ transposeA: boolean; transposeB: boolean }>) => {
    const { a, b: y } = inputs as { a: T; b: T };
    const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
    return b.fromNative(b.addon.matmul(b.nativeOf(a), b.nativeOf(y), ta, tb), matmulShape(a, y, ta, tb), 'float32');
  });
  reg('_FusedMatMul', ({ inputs, backend: b, attrs }: Args<{ transposeA: boolean; transposeB: boolean; activation?: string; leakyreluAlpha?: number }>) => {
    const { a, b: y, bias, preluActivationWeights } = inputs as Record<string, T>;
    const ta = !!attrs.transposeA, tb = !!attrs.transposeB;
    const id = b.addon.matmul(b.nativeOf(a!), b.nativeOf(y!), ta, tb, optId(b, bias), attrs.activation ?? 'linear',
      attrs.leakyreluAlpha ?? 0, optId(b, preluActivationWeights));
    return b.fromNative(id, matmulShape(a!, y!, ta, tb), 'float32');
  });
  reg('MaxPool', ({ inputs, backend: b, attrs }: Args<PoolAttrs>) => {
    const x = inputs.x!;
    const c = poolInfo(x, attrs);
    const g = geometry(c);
    return b.fromNative(b.addon.maxPool(b.nativeOf(x), [c.filterHeight, c.filterWidth], g.stride, g.dilation, g.pad), c.outShape.slice(), 'float32');
  });
  reg('MaxPoolGrad', ({ inputs, backend: b, attrs }: Args<PoolAttrs>) => {
    const { dy, input } = inputs as { dy: T; input: T };
    const c = poolInfo(input, attrs);
    const g = geometry(c);
    const id = b.addon.maxPoolGrad(b.nativeOf(dy), b.nativeOf(input), [c.filterHeight, c.filterWidth], g.stride, g.dilation, g.pad);
    return b.fromNative(id, input.shape.slice(), 'float32');
  });
  reg('ResizeNearestNeighbor', (args: Args<{ alignCorners: boolean; halfPixelCenters: boolean; size: [number, number] }>) => {
    const { inputs, backend: b, attrs } = args;
    const x = inputs.images!;
    if (attrs.alignCorners) return runOnWasm('ResizeNearestNeighbor', args as never);
    const [h, w] = attrs.size;
    const id = b.addon.resizeNearest(b.nativeOf(x), h, w, !!attrs.halfPixelCenters);
    return b.fromNative(id, [x.shape[0]!, h, w, x.shape[3]!], x.dtype);
  });
  reg('ResizeNearestNeighborGrad', (args: Args<{ alignCorners: boolean; halfPixelCenters: boolean }>) => {
    const { inputs, backend: b, attrs } = args;
    const { images, dy } = inputs as { images: T; dy: T };
    if (attrs.alignCorners) return runOnWasm('ResizeNearestNeighborGrad', args as never);
    const id = b.addon.resizeNearestGrad(b.nativeOf(dy), images.shape[1]!, images.shape[2]!, !!attrs.halfPixelCenters);
    return b.fromNative(id, images.shape.slice(), 'float32');
  });
  reg('FusedBatchNorm', ({ inputs, backend: b, attrs }: Args<{ varianceEpsilon: number }>) => {
    const { x, mean, variance, offset, scale } = inputs as Record<string, T>;
    const id = b.addon.batchNorm(b.nativeOf(x!), b.nativeOf(mean!), b.nativeOf(variance!), optId(b, offset), optId(b, scale), attrs.varianceEpsilon ?? 1e-3);
    return b.fromNative(id, x!.shape.slice(), 'float32');
  });
  reg('Einsum', ({ inputs, backend: b, attrs }: Args<{ equation: string }>) => {
    const id = b.addon.einsum(attrs.equation, ids(b, listInputs(inputs)));
    return b.fromNative(id, b.addon.shape(id), 'float32');
  });
  reg(ADAMW_UPDATE, ({ inputs, backend: b, attrs: a }: Args<AdamWUpdateAttrs>) => {
    const { p, g, m, v } = inputs as { p: T; g: T; m: T; v: T };
    const out = b.addon.adamw(b.nativeOf(p), b.nativeOf(g), b.nativeOf(m), b.nativeOf(v), a.beta1, a.beta2, a.eps, a.decayFactor, a.stepSize, a.bc2Sqrt);
    return out.map((id) => b.fromNative(id, p.shape.slice(), 'float32'));
  });
}
