// Gradient accumulation: sums the gradients of N micro-batches and hands back their mean, so N micro-batches of
// size b give the update of one batch of size N*b (for losses that are means over the batch).
import * as tf from '@tensorflow/tfjs';
import type { GradMap } from './gradClip.ts';

export class GradAccumulator {
  private sum: GradMap = new Map();
  private count = 0;

  /** Number of micro-batches added since the last take(). */
  get size(): number {
    return this.count;
  }

  /** Adds one micro-batch's gradients; takes ownership of them (they are disposed or kept as the running sum). */
  add(grads: GradMap): void {
    for (const [name, g] of grads) {
      const prev = this.sum.get(name);
      if (!prev) {
        this.sum.set(name, g);
        continue;
      }
      this.sum.set(name, tf.tidy(() => tf.add(prev, g)));
      prev.dispose();
      g.dispose();
    }
    this.count += 1;
  }

  /**
   * The mean gradients over `microSteps` micro-batches (a parameter missing from some micro-batches counts zero
   * there); the caller owns the result. Resets the accumulator.
   */
  take(microSteps = this.count): GradMap {
    const out: GradMap = new Map();
    for (const [name, g] of this.sum) {
      if (microSteps === 1) { out.set(name, g); continue; }
      out.set(name, tf.tidy(() => tf.div(g, microSteps)));
      g.dispose();
    }
    this.sum = new Map();
    this.count = 0;
    return out;
  }

  dispose(): void {
    for (const g of this.sum.values()) g.dispose();
    this.sum = new Map();
    this.count = 0;
  }
}
