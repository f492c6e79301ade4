// Identity for wasm, replacing the built-in one, which copies the tensor. The gradient tape clones (Identity)
// every tensor a kernel saves for its backward pass, so the copy doubled the memory of everything saved and
// cost ~13 % of backward kernel time. Like the cpu backend, this shares the buffer (reference-counted):
// wasm kernels never write into their inputs, and a variable's assign swaps buffers instead of writing in place.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface RefCountingBackend { incRef(dataId: object): void }

export function makeIdentityConfig(original: KernelConfig): KernelConfig {
  const identity: KernelFunc = (args) => {
    const x = (args.inputs as { x: TensorInfo }).x;
    if (x.dtype === 'string') return original.kernelFunc(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { ...original, kernelFunc: identity };
}
