// Runs the same computation on wasm and on the reference cpu backend and compares the results.
import * as tf from '@tensorflow/tfjs';
import { assertClose } from '../helpers/tf.ts';

/** Deterministic pseudo-random values in [-1, 1) (same on every backend). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A tensor of `values(size, seed)`, created on the current backend. */
export function randT(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Runs `build` (which creates its own inputs) on `backend`; returns every output's data. */
export async function runOn(backend: string, build: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const out = build();
      return (Array.isArray(out) ? out : [out]).map((t) => Float32Array.from(t.dataSync()));
    });
  } finally {
    await tf.setBackend(prev);
  }
}

/** Asserts `build` gives the same outputs on wasm as on cpu (the reference). */
export async function expectWasmMatchesCpu(
  what: string,
  build: () => tf.Tensor | tf.Tensor[],
  { rtol = 1e-4, atol = 1e-4 }: { rtol?: number; atol?: number } = {},
): Promise<void> {
  const ref = await runOn('cpu', build);
  const got = await runOn('wasm', build);
  if (got.length !== ref.length) throw new Error(`${what}: ${got.length} outputs, cpu gave ${ref.length}`);
  got.forEach((g, i) => assertClose(g, ref[i]!, { rtol, atol, what: `${what} [output ${i}]` }));
}

/** Asserts fn leaves no tensor and no backend buffer behind. */
export function expectNoBackendLeak(fn: () => void): void {
  const t0 = tf.memory().numTensors;
  const d0 = tf.engine().backend.numDataIds();
  fn();
  const t1 = tf.memory().numTensors;
  const d1 = tf.engine().backend.numDataIds();
  if (t1 !== t0 || d1 !== d0) throw new Error(`leak: ${t1 - t0} tensors, ${d1 - d0} backend buffers`);
}
