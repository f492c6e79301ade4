// Shared test set-up: the default engine (DETCLIP_BACKEND, else torch when built, else wasm), leak checks and
// closeness asserts.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend/index.ts';

export { tf };
export const setupBackend = (): Promise<string> => initBackend();
/** For tests of the wasm kernels themselves (src/backend/kernels). */
export const setupWasm = (): Promise<string> => initBackend('wasm');

/** Runs fn and asserts tf.memory().numTensors is unchanged afterwards (fn's own outputs must be disposed by fn). */
export async function expectNoLeak(fn: () => unknown | Promise<unknown>): Promise<void> {
  const before = tf.memory().numTensors;
  await fn();
  const after = tf.memory().numTensors;
  assert.equal(after, before, `tensor leak: ${after - before} tensors left behind`);
}

/** Asserts |a - b| <= atol + rtol * |b| elementwise (b is the reference). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-4, atol = 1e-5, what = 'values' }: { rtol?: number; atol?: number; what?: string } = {},
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(`${what}: index ${worst}: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}
