// Registers the experimental libtorch backend as 'torch' (not the default; not wired into the CLI).
import * as tf from '@tensorflow/tfjs';
import { loadTorchAddon, type TorchAddon } from './addon.ts';
import { TorchBackend } from './backend.ts';
import { registerTorchKernels, TORCH } from './kernels.ts';

export { TorchBackend };
let registered = false;
let lastReason = '';

/** Why the last registerTorchBackend() returned false ('' if it did not). */
export const torchBackendUnavailableReason = (): string => lastReason;
export const torchAddon = (): TorchAddon | null => loadTorchAddon().addon;

/** Registers the 'torch' backend (priority below wasm). False, with a reason, when the addon cannot load. */
export function registerTorchBackend(): boolean {
  if (registered) return true;
  const { addon, reason } = loadTorchAddon();
  if (!addon) {
    lastReason = `cannot load native/build/Release/detclip_torch.node: ${reason}`;
    return false;
  }
  tf.registerBackend(TORCH, () => new TorchBackend(addon), -1);
  registerTorchKernels();
  registered = true;
  lastReason = '';
  return true;
}
