// Kernels the wasm backend lacks (or has only as slow loops), built from kernels it has. Registered once,
// before setBackend('wasm') runs the kernels' setup functions.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm'; // registers the built-in wasm kernels this module overrides
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { adamwUpdateConfig } from './kernels/adamwUpdate.ts';
import { makeBatchMatMulConfig } from './kernels/batchMatMul.ts';
import { conv2dBackpropFilterConfig } from './kernels/conv2dBackpropFilter.ts';
import { conv2dBackpropInputConfig } from './kernels/conv2dBackpropInput.ts';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './kernels/depthwiseBackprop.ts';
import { einsumConfig } from './kernels/einsum.ts';
import { makeGatherV2Config } from './kernels/gatherV2.ts';
import { makeIdentityConfig } from './kernels/identity.ts';
import { makeSliceConfig } from './kernels/slice.ts';
import { makeSplitVConfig, makeUnpackConfig } from './kernels/splitUnpack.ts';
import { makeSumConfig } from './kernels/sum.ts';
import { unsortedSegmentSumConfig } from './kernels/unsortedSegmentSum.ts';

/** Kernels wasm does not have at all (gradients of conv, depthwise conv and gather; einsum). */
export const WASM_GAP_KERNELS: KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  unsortedSegmentSumConfig,
  einsumConfig,
  adamwUpdateConfig, // not a tfjs kernel: the fused optimizer step of src/train/adamw.ts
];

/** Built-in wasm kernels replaced by faster compositions (the original stays reachable as a fallback). */
export const WASM_FASTER_KERNELS = ['BatchMatMul', 'Conv2DBackpropInput', 'GatherV2', 'Identity', 'Slice', 'SplitV', 'Sum', 'Unpack'] as const;

const originals = new Map<string, KernelConfig>();

/** The built-in wasm kernel that an override replaced (for benchmarks and A/B checks). */
export function originalWasmKernel(name: (typeof WASM_FASTER_KERNELS)[number]): KernelConfig | undefined {
  return originals.get(name);
}

/** Replaces a registered kernel, keeping its setupFunc (it initialises the original's wasm bindings). */
function override(name: string, make: (original: KernelConfig) => KernelConfig): void {
  const original = tf.getKernel(name, 'wasm');
  if (original == null) throw new Error(`wasm kernel ${name} is not registered`);
  originals.set(name, original);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(make(original));
}

/** NHWC uses the composed kernel; anything else falls back to the original. */
function nhwcOrOriginal(composed: KernelConfig): (original: KernelConfig) => KernelConfig {
  return (original) => {
    const kernelFunc: KernelFunc = (args) =>
      (args.attrs as { dataFormat?: string } | undefined)?.dataFormat === 'NCHW'
        ? original.kernelFunc(args)
        : composed.kernelFunc(args);
    return { ...original, kernelFunc };
  };
}

let registered = false;
export function registerWasmKernelGaps(): void {
  if (registered) return;
  registered = true;
  for (const k of WASM_GAP_KERNELS) {
    if (tf.getKernel(k.kernelName, 'wasm') == null) tf.registerKernel(k);
  }
  override('BatchMatMul', makeBatchMatMulConfig);
  override('Conv2DBackpropInput', nhwcOrOriginal(conv2dBackpropInputConfig));
  override('GatherV2', makeGatherV2Config);
  override('Identity', makeIdentityConfig);
  override('Slice', makeSliceConfig);
  override('SplitV', makeSplitVConfig);
  override('Sum', makeSumConfig);
  override('Unpack', makeUnpackConfig);
}
