// Learning-rate schedule: linear warm-up, then cosine decay to a floor (the paper: AdamW, cosine, 1000 warm-up iters).

export interface LrSchedule {
  base: number;     // peak learning rate, reached at the end of warm-up
  warmup: number;   // warm-up length in optimizer steps (0: none)
  total: number;    // total optimizer steps of the run
  minRatio: number; // floor as a fraction of base (cosine ends at base * minRatio)
}

/**
 * Learning rate for the optimizer step with 0-based index `step`.
 * Warm-up: base * (step + 1) / warmup, so the first step already moves (no wasted lr-0 step) and step warmup-1 hits base.
 * Then cosine over the remaining (total - warmup) steps from base towards base * minRatio; steps past `total` stay at the floor.
 */
export function lrAt(step: number, s: LrSchedule): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`lrAt: step must be a non-negative integer, got ${step}`);
  if (step < s.warmup) return (s.base * (step + 1)) / s.warmup;
  const floor = s.base * s.minRatio;
  const span = Math.max(1, s.total - s.warmup);
  const progress = Math.min(1, (step - s.warmup) / span);
  return floor + (s.base - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
