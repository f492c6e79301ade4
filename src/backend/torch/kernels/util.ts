// Registration helpers shared by the torch kernel files.
import * as tf from '@tensorflow/tfjs';
import type { TorchBackend } from '../backend.ts';

export const TORCH = 'torch';
export type T = tf.TensorInfo;
export type DType = 'float32' | 'int32' | 'bool';
export interface Args<A = Record<string, unknown>> { inputs: Record<string, T>; backend: TorchBackend; attrs: A }
type KF = (args: Args<never>) => T | T[];

/** Names of the kernels this backend runs natively (everything else goes through the wasm fallback). */
export const NATIVE_KERNELS = new Set<string>();

export function reg<A>(kernelName: string, kernelFunc: (args: Args<A>) => T | T[]): void {
  NATIVE_KERNELS.add(kernelName);
  tf.registerKernel({ kernelName, backendName: TORCH, kernelFunc: kernelFunc as KF as unknown as tf.KernelFunc });
}

export const dt = (d: tf.DataType): DType => {
  if (d === 'float32' || d === 'int32' || d === 'bool') return d;
  throw new Error(`torch backend: dtype ${d} is not supported`);
};

/** The kernel's array-like inputs (Concat, Pack, AddN, Einsum) as an array. */
export const listInputs = (inputs: Record<string, T>): T[] => Object.keys(inputs).sort((a, b) => Number(a) - Number(b)).map((k) => inputs[k]!);

/** Native ids for a list of inputs. */
export const ids = (b: TorchBackend, ts: T[]): number[] => ts.map((t) => b.nativeOf(t));

export const optId = (b: TorchBackend, t: T | undefined | null): number | null => (t ? b.nativeOf(t) : null);
