// registerWasmKernelGaps: every gap kernel is registered for wasm, every replaced one keeps its original.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setupWasm, tf } from '../helpers/tf.ts';
import { WASM_FASTER_KERNELS, WASM_GAP_KERNELS, originalWasmKernel, registerWasmKernelGaps } from '../../src/backend/wasmKernels.ts';

describe('wasm kernel registry', () => {
  before(async () => {
    await setupWasm();
  });

  it('registers the gap kernels and replaces the slow built-ins (idempotently)', () => {
    registerWasmKernelGaps(); // second call is a no-op
    for (const k of WASM_GAP_KERNELS) assert.equal(tf.getKernel(k.kernelName, 'wasm'), k, k.kernelName);
    for (const name of WASM_FASTER_KERNELS) {
      const original = originalWasmKernel(name);
      const now = tf.getKernel(name, 'wasm');
      assert.ok(original && now, name);
      assert.notEqual(now!.kernelFunc, original!.kernelFunc, `${name} not replaced`);
      assert.equal(now!.setupFunc, original!.setupFunc, `${name} lost its setupFunc`);
    }
  });

  it('switching to cpu and back keeps the kernels working', async () => {
    await tf.setBackend('cpu');
    await tf.setBackend('wasm');
    const g = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.gather(a, [1, 1])))(tf.ones([3, 2])).dataSync());
    assert.deepEqual(Array.from(g), [0, 0, 2, 2, 0, 0]);
  });
});
