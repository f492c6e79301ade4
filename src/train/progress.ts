// Console progress for training: a cli-progress bar with ETA, lr and running (EMA) losses per data kind.
// Silent when the stream is not a TTY (logs, CI) or when quiet; the EMAs are kept either way (they go in checkpoints).
import cliProgress from 'cli-progress';

export interface EmaEntry { value: number; count: number }
export type EmaState = Record<string, EmaEntry>;

export interface ProgressOptions {
  total: number;                       // optimizer steps of the run
  start?: number;                      // steps already done (resume)
  quiet?: boolean;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };   // default process.stderr
  emaWeight?: number;                  // default 0.9
}

/** Progress bar plus per-kind loss EMAs (stored un-debiased; ema() divides by 1 - w^count, TensorBoard-style). */
export class TrainProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private readonly weight: number;
  private acc: EmaState = {};

  constructor(private readonly opts: ProgressOptions) {
    this.weight = opts.emaWeight ?? 0.9;
    const stream = opts.stream ?? process.stderr;
    const tty = (stream as { isTTY?: boolean }).isTTY === true;
    this.bar = opts.quiet || !tty ? null : new cliProgress.SingleBar({
      stream: stream as NodeJS.WriteStream,
      format: 'train |{bar}| {value}/{total} | {duration_formatted} < ETA {eta_formatted} | lr {lr} | {losses}',
      barsize: 24,
      hideCursor: false,
      etaBuffer: 50,
      fps: 5,
    }, cliProgress.Presets.shades_classic);
    this.bar?.start(opts.total, opts.start ?? 0, { lr: '-', losses: '' });
  }

  /** Whether a bar is drawn. */
  get visible(): boolean {
    return this.bar !== null;
  }

  /** Feeds one micro-batch's total loss into its kind's EMA. */
  observe(kind: string, loss: number): void {
    if (!Number.isFinite(loss)) return;
    const e = (this.acc[kind] ??= { value: 0, count: 0 });
    e.value = this.weight * e.value + (1 - this.weight) * loss;
    e.count += 1;
  }

  /** The debiased running losses per kind. */
  ema(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, e] of Object.entries(this.acc)) out[k] = e.count ? e.value / (1 - this.weight ** e.count) : NaN;
    return out;
  }

  /** Redraws with `step` optimizer steps done. */
  update(step: number, lr: number): void {
    if (!this.bar) return;
    const losses = Object.entries(this.ema()).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(' ');
    this.bar.update(step, { lr: lr.toExponential(2), losses });
  }

  /** Raw EMA accumulators for checkpoints, and their restore. */
  getState(): EmaState {
    return structuredClone(this.acc);
  }

  setState(s: EmaState): void {
    this.acc = structuredClone(s);
  }

  stop(): void {
    this.bar?.stop();
  }
}
