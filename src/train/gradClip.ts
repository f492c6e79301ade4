// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics, L2 norm over all gradients).
import * as tf from '@tensorflow/tfjs';

/** Gradients keyed by parameter name (or TF.js variable name). */
export type GradMap = Map<string, tf.Tensor>;

/** The L2 norm of all gradients together, as a number. */
export function globalGradNorm(grads: GradMap): number {
  if (grads.size === 0) return 0;
  const sq = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const total = Math.sqrt(sq.dataSync()[0]!);
  sq.dispose();
  return total;
}

/**
 * Scales all gradients by maxNorm / (norm + 1e-6) when their global norm exceeds maxNorm.
 * Takes ownership of `grads`: a gradient that gets replaced is disposed, so the caller disposes only the returned map.
 * `norm` is the norm before clipping (may be NaN/Infinity: then the grads are returned untouched for the caller to reject).
 */
export function clipGradNorm(grads: GradMap, maxNorm: number): { grads: GradMap; norm: number } {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalGradNorm(grads);
  if (!Number.isFinite(norm) || norm <= maxNorm) return { grads, norm };
  const coef = maxNorm / (norm + 1e-6);
  const out: GradMap = new Map();
  for (const [name, g] of grads) {
    out.set(name, tf.tidy(() => tf.mul(g, coef)));
    g.dispose();
  }
  return { grads: out, norm };
}
