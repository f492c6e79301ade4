// All torch kernel registrations: native ones first, then the wasm fallback for the rest.
import { registerTorchFallbacks } from './fallback.ts';
import { registerMathKernels } from './math.ts';
import { registerNNKernels } from './nn.ts';
import { registerShapeKernels } from './shape.ts';
import { NATIVE_KERNELS } from './util.ts';

export { NATIVE_KERNELS, TORCH } from './util.ts';
export { torchFallbackCalls } from './fallback.ts';

let done = false;
/** Registers every kernel once. Needs the wasm kernels (and src/backend's wasm gaps) registered first. */
export function registerTorchKernels(): { native: string[]; fallback: string[] } {
  if (!done) {
    registerMathKernels();
    registerShapeKernels();
    registerNNKernels();
    done = true;
  }
  return { native: [...NATIVE_KERNELS].sort(), fallback: registerTorchFallbacks() };
}
