// The native 'torch' backend: libtorch (oneDNN convs, OpenBLAS matmuls) behind TF.js's KernelBackend.
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { loadTorchAddon, type TorchAddon, type TorchInfo } from './addon.ts';
import { TorchBackend } from './backend.ts';
import { registerTorchKernels, TORCH } from './kernels/index.ts';
import { registerWasmKernelGaps } from '../wasmKernels.ts';

export { TorchBackend, TORCH };
export { NATIVE_KERNELS, torchFallbackCalls } from './kernels/index.ts';
export type { TorchInfo };

let registered = false;
let lastReason = '';

/** Why the last registerTorchBackend() returned false ('' if it did not). */
export const torchBackendUnavailableReason = (): string => lastReason;
export const torchAddon = (): TorchAddon | null => loadTorchAddon().addon;

/** Intra-op threads: an explicit choice, else DETCLIP_THREADS, else every core. */
export function resolveThreads(choice?: number): number {
  const env = process.env.DETCLIP_THREADS;
  const n = choice ?? (env ? Number(env) : os.availableParallelism());
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a positive integer, got ${choice ?? env}`);
  return n;
}

/** Sets libtorch's (and OpenBLAS's) thread count. No-op without the addon. */
export function setTorchThreads(n: number): void {
  loadTorchAddon().addon?.setThreads(n);
}

/** Build and run-time facts of the native engine, or null with the reason. */
export function torchInfo(): TorchInfo | null {
  return loadTorchAddon().addon?.info() ?? null;
}

/**
 * Registers the 'torch' backend and its kernels (native, plus the wasm fallback for the rest). The wasm kernels
 * must be registered first (src/backend does that). False, with a reason, when the addon cannot load.
 */
export function registerTorchBackend(threads?: number): boolean {
  if (registered) return true;
  const { addon, reason } = loadTorchAddon();
  if (!addon) {
    lastReason = `native engine not available (${reason})`;
    return false;
  }
  addon.setThreads(resolveThreads(threads));
  registerWasmKernelGaps(); // the fallback needs the final wasm kernel table
  tf.registerBackend(TORCH, () => new TorchBackend(addon), 3);
  registerTorchKernels();
  registered = true;
  lastReason = '';
  return true;
}
