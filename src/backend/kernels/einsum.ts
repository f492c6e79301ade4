// Einsum for wasm (which lacks it; tfjs has no einsum gradient on any backend, so this is forward only).
// Same plan as tfjs's cpu kernel: bring every operand to the full index order (transpose + size-1 axes),
// multiply with broadcasting, and sum each contracted index once no later operand needs it.
import * as tf from '@tensorflow/tfjs';
import type { EinsumAttrs, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { runComposed } from './compose.ts';

export function einsumComposed(equation: string, operands: tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => {
    const bu = tf.backend_util;
    const { allDims, summedDims, idDims } = bu.decodeEinsumEquation(equation, operands.length);
    bu.checkEinsumDimSizes(allDims.length, idDims, operands);
    const { path, steps } = bu.getEinsumComputePath(summedDims, idDims);
    let out: tf.Tensor | null = null;
    let remaining = allDims.length;
    steps.forEach((step, i) => {
      for (const term of step) {
        const { permutationIndices: perm, expandDims } = bu.getEinsumPermutation(remaining, idDims[term]!);
        let t = bu.isIdentityPermutation(perm) ? operands[term]! : tf.transpose(operands[term]!, perm);
        const shape = t.shape.slice();
        for (const a of expandDims) shape.splice(a, 0, 1);
        if (shape.length !== t.shape.length) t = tf.reshape(t, shape);
        out = out === null ? t : tf.mul(t, out);
      }
      if (i < steps.length - 1) {
        if (path[i]! >= 0) out = tf.sum(out!, path[i]! - (allDims.length - remaining));
        remaining--;
      }
    });
    return out!;
  });
}

const einsum: KernelFunc = ({ inputs, attrs }) => {
  const { equation } = attrs as unknown as EinsumAttrs;
  return runComposed(inputs as unknown as tf.TensorInfo[], (ts) => einsumComposed(equation, ts));
};

export const einsumConfig: KernelConfig = { kernelName: 'Einsum', backendName: 'wasm', kernelFunc: einsum };
