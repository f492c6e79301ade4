// Kernels the torch backend has no native version of run on the wasm backend: inputs are copied into wasm,
// the wasm kernel runs, outputs are copied back. Correct for every kernel wasm has, slow only for the
// rare ones (NMS, TopK, Where, ...). `torchFallbackCalls()` tells which ran, for profiling.
import * as tf from '@tensorflow/tfjs';
import { WASM_GAP_KERNELS, originalWasmKernel, WASM_FASTER_KERNELS } from '../../wasmKernels.ts';
import type { TorchBackend } from '../backend.ts';
import { NATIVE_KERNELS, TORCH, type T } from './util.ts';

const calls = new Map<string, number>();

/** Calls per kernel that ran through the wasm fallback since start (or since the last reset). */
export function torchFallbackCalls(reset = false): Record<string, number> {
  const out = Object.fromEntries([...calls].sort((a, b) => b[1] - a[1]));
  if (reset) calls.clear();
  return out;
}

function wasmKernel(name: string): tf.KernelConfig | undefined {
  if ((WASM_FASTER_KERNELS as readonly string[]).includes(name)) {
    return originalWasmKernel(name as (typeof WASM_FASTER_KERNELS)[number]) ?? tf.getKernel(name, 'wasm');
  }
  return tf.getKernel(name, 'wasm');
}

/** Runs the wasm kernel `name` on torch-held inputs; the result lives in the torch backend. */
export function runOnWasm(name: string, args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): T | T[] {
  const torch = args.backend as TorchBackend;
  const wasm = tf.engine().findBackend('wasm');
  const kernel = wasmKernel(name);
  if (!wasm || !kernel) throw new Error(`torch backend: no native ${name} and the wasm backend is not initialised to run it`);
  calls.set(name, (calls.get(name) ?? 0) + 1);
  const copies: T[] = [];
  const toWasm = (t: T): T => {
    const values = torch.readSync(t.dataId) as Float32Array;
    const info = { dataId: wasm.write(values, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    copies.push(info);
    return info;
  };
  const inputs: Record<string, T> = {};
  for (const [k, v] of Object.entries(args.inputs)) if (v) inputs[k] = toWasm(v);
  let outs: T | T[];
  try {
    outs = kernel.kernelFunc({ inputs, backend: wasm, attrs: args.attrs ?? {} }) as T | T[];
  } finally {
    for (const c of copies) wasm.disposeData(c.dataId);
  }
  const back = (o: T): T => {
    const values = wasm.readSync(o.dataId) as Float32Array;
    wasm.disposeData(o.dataId);
    return torch.makeTensorInfo(o.shape, o.dtype, values);
  };
  return Array.isArray(outs) ? outs.map(back) : back(outs);
}

const composedOnWasm = new Set(WASM_GAP_KERNELS.map((k) => k.kernelName));

/** Registers a fallback for every wasm kernel without a native torch kernel. Returns their names. */
export function registerTorchFallbacks(): string[] {
  const added: string[] = [];
  for (const k of tf.getKernelsForBackend('wasm')) {
    const name = k.kernelName;
    // Kernels composed of tf ops on wasm would dispatch back to torch with wasm data: they must be native.
    if (NATIVE_KERNELS.has(name) || composedOnWasm.has(name) || tf.getKernel(name, TORCH)) continue;
    tf.registerKernel({ kernelName: name, backendName: TORCH, kernelFunc: (args) => runOnWasm(name, args) as tf.TensorInfo });
    added.push(name);
  }
  return added;
}
