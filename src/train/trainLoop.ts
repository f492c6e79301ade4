// The training loop: step counting, lr schedule, gradient accumulation + clipping, metrics JSONL, progress,
// periodic eval, periodic + final checkpoints, and exact resume (same losses as an uninterrupted run).
// The model-specific work (forward, losses, gradients) is the caller's `step` function.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { ParamStore } from '../model/params.ts';
import type { AdamW } from './adamw.ts';
import { clipGradNorm, globalGradNorm, type GradMap } from './gradClip.ts';
import { GradAccumulator } from './gradAccumulator.ts';
import { lrAt } from './lrSchedule.ts';
import { MetricsLog, readMetrics, truncateMetrics, type EvalRecord, type TrainRecord } from './metricsLog.ts';
import { TrainProgress } from './progress.ts';
import { writeLossPlot } from './lossPlot.ts';
import { assertSameConfig, CHECKPOINT_VERSION, loadCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.ts';
import type { TrainConfig } from './trainConfig.ts';
import { assertSingleProcessState, type DataParallel } from './distributed/dataParallel.ts';

/** Anything with a serialisable state: the data loader, RNGs. */
export interface Stateful { getState(): unknown; setState(s: unknown): void }
export interface TrainLoader<B extends { kind: string }> extends Stateful { next(): Promise<B> }

export interface StepContext {
  step: number;         // 0-based index of the optimizer step being computed
  micro: number;        // micro-batch index in [0, microSteps)
  microSteps: number;   // train.accumulate
  lr: number;           // scheduled lr of this step (already set on the optimizer)
  /**
   * Hands over this micro-batch's gradients (keyed by parameter or TF.js variable name; ownership passes).
   * On the last micro-batch: mean over micro-batches, global-norm clip (train.gradClip), AdamW step; returns the
   * pre-clip gradient norm. Earlier micro-batches: accumulates and returns undefined. Call at most once per micro-batch.
   */
  update(grads: GradMap): number | undefined;
}

/** Loss parts of one micro-batch; `total` if present is the logged total, else the sum of the parts. */
export type StepFn<B> = (batch: B, ctx: StepContext) => Promise<{ losses: Record<string, number> }>;

export interface RunTrainingOptions<B extends { kind: string }> {
  store: ParamStore;                  // the root store (every parameter goes in the checkpoint)
  optimizer: AdamW;
  loader: TrainLoader<B>;
  step: StepFn<B>;
  config: TrainConfig;
  outDir: string;                     // gets checkpoint/, metrics.jsonl, loss.png
  resumeFrom?: string;                // a checkpoint dir; its config must match (RESUMABLE_CHANGES aside)
  modelConfig?: unknown;              // stored with the config in checkpoints and compared on resume
  rngs?: Record<string, Stateful>;    // every RNG the step / loader uses, saved and restored by name
  onEval?: (step: number) => Promise<Record<string, number> | void>;
  quiet?: boolean;                    // no progress bar
  plot?: boolean;                     // write loss.png (default true)
  signal?: AbortSignal;               // stop after the current step, with a checkpoint
  log?: (line: string) => void;       // one-line notices (checkpoints, eval); default: none
  /**
   * Data-parallel run: rank 0's parameters (and, resuming, optimizer state) go to every rank first; gradients are
   * summed over ranks before clipping; rank 0 alone reads the checkpoint and writes metrics, plots, checkpoints
   * and runs onEval. The step function must return the global batch's losses (makeTrainStep does).
   */
  dist?: DataParallel;
}

export interface TrainingResult {
  step: number;                       // optimizer steps completed
  stopped: boolean;                   // ended by `signal` before config.train.steps
  checkpointDir: string;
  metricsFile: string;
  plotFile?: string;
  lastLosses?: Record<string, number>;
}

export const runPaths = (outDir: string): { checkpoint: string; metrics: string; plot: string } => ({
  checkpoint: path.join(outDir, 'checkpoint'),
  metrics: path.join(outDir, 'metrics.jsonl'),
  plot: path.join(outDir, 'loss.png'),
});

function totalOf(losses: Record<string, number>): number {
  if ('total' in losses) return losses.total!;
  return Object.values(losses).reduce((a, b) => a + b, 0);
}

export async function runTraining<B extends { kind: string }>(o: RunTrainingOptions<B>): Promise<TrainingResult> {
  const cfg = o.config.train;
  const files = runPaths(o.outDir);
  const resolved = o.modelConfig === undefined ? o.config : { ...o.config, model: o.modelConfig };
  const dist = o.dist;
  const writer = !dist || dist.isWriter;
  const log = (writer && o.log) || ((): void => {});
  const plot = (o.plot ?? true) && writer;
  const rngs = o.rngs ?? {};
  let start = 0;
  let elapsedBefore = 0;
  let evals: EvalRecord[] = [];
  let lastLosses: Record<string, number> | undefined;
  let progressState: TrainState['metrics']['ema'] = {};

  if (!o.resumeFrom && writer && (fs.existsSync(files.checkpoint) || fs.existsSync(files.metrics))) {
    throw new UserError(`${o.outDir} already holds a training run: resume it with --resume ${files.checkpoint} or choose another output directory`);
  }
  // Rank 0 (or the single process) reads the checkpoint; the other ranks get its state and tensors from it.
  let st: TrainState | undefined;
  let resumedFrom = o.resumeFrom;
  if (o.resumeFrom && writer) {
    const ckpt = loadCheckpoint(o.resumeFrom);
    assertSameConfig(ckpt, resolved);
    if (!dist) assertSingleProcessState(ckpt.state.data, path.join(o.resumeFrom, 'state.json'));
    restoreCheckpoint(ckpt, { store: o.store, optimizer: o.optimizer });
    st = ckpt.state;
    if (ckpt.recoveredFrom) resumedFrom = `${ckpt.recoveredFrom} (the leftover of an interrupted save of ${o.resumeFrom})`;
  }
  if (dist) {
    if (o.resumeFrom) st = dist.pg.broadcastJson(st);
    dist.syncFromWriter(o.store, o.optimizer, !!o.resumeFrom);
  }
  if (o.resumeFrom && st) {
    const where = path.join(o.resumeFrom, 'state.json');
    o.loader.setState(dist ? dist.loaderStateOf(st.data, where) : st.data);
    for (const [name, r] of Object.entries(rngs)) {
      if (!(name in st.rng)) throw new UserError(`${where}: no state for RNG '${name}'`);
      r.setState(st.rng[name]);
    }
    start = st.step;
    elapsedBefore = st.metrics.elapsed;
    evals = st.metrics.evals;
    lastLosses = st.metrics.lastLosses;
    progressState = st.metrics.ema;
    if (writer) {
      // metrics logged after the checkpoint belong to the abandoned tail: drop them (or bring the history along)
      const src = path.join(path.dirname(path.resolve(o.resumeFrom)), 'metrics.jsonl');
      if (!fs.existsSync(files.metrics) && fs.existsSync(src)) {
        fs.mkdirSync(o.outDir, { recursive: true });
        fs.copyFileSync(src, files.metrics);
      }
      truncateMetrics(files.metrics, start);
    }
    log(`resumed from ${resumedFrom} at step ${start}`);
  }

  if (writer) fs.mkdirSync(o.outDir, { recursive: true });
  const metrics = writer ? new MetricsLog(files.metrics) : undefined;
  const progress = new TrainProgress({ total: cfg.steps, start, quiet: o.quiet || !writer });
  progress.setState(progressState);
  const acc = new GradAccumulator();
  const t0 = performance.now();
  const elapsed = (): number => elapsedBefore + (performance.now() - t0) / 1000;
  const sched = { base: cfg.lr, warmup: cfg.warmup, total: cfg.steps, minRatio: cfg.minLrRatio };
  let done = start;
  let savedAt = -1;

  const save = (): void => {
    const data = dist ? dist.gatherLoaderStates(o.loader.getState()) : o.loader.getState(); // every rank takes part
    savedAt = done;
    if (!writer) return;
    const state: TrainState = {
      version: CHECKPOINT_VERSION, step: done, data,
      rng: Object.fromEntries(Object.entries(rngs).map(([k, r]) => [k, r.getState()])),
      metrics: { ema: progress.getState(), evals, elapsed: elapsed(), lastLosses },
      config: resolved,
    };
    saveCheckpoint(files.checkpoint, { store: o.store, optimizer: o.optimizer, state });
    log(`step ${done}: checkpoint ${files.checkpoint}`);
  };
  const drawPlot = async (): Promise<void> => {
    if (plot) await writeLossPlot(files.plot, readMetrics(files.metrics), { title: `training loss (${path.basename(path.resolve(o.outDir))})` });
  };
  const evaluate = async (): Promise<void> => {
    if (!o.onEval || !writer) return; // the other ranks wait in the next step's first collective
    const res = await o.onEval(done);
    if (!res) return;
    const rec: EvalRecord = { step: done, kind: 'eval', metrics: res, time: elapsed() };
    metrics!.append(rec);
    evals = [...evals, rec];
    log(`step ${done}: eval ${Object.entries(res).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(' ')}`);
  };

  let stopped = false;
  try {
    for (let step = start; step < cfg.steps; step++) {
      const abort = dist ? dist.anyTrue(!!o.signal?.aborted) : !!o.signal?.aborted; // every rank stops at the same step
      if (abort) { stopped = true; break; }
      const lr = lrAt(step, sched);
      o.optimizer.lr = lr;
      const optStepBefore = o.optimizer.step;
      for (let micro = 0; micro < cfg.accumulate; micro++) {
        const batch = await o.loader.next();
        let updated = false;
        let gradNorm: number | undefined;
        const ctx: StepContext = {
          step, micro, microSteps: cfg.accumulate, lr,
          update: (grads) => {
            if (updated) throw new Error(`step ${step + 1}: ctx.update called twice for one micro-batch`);
            updated = true;
            acc.add(grads);
            if (micro < cfg.accumulate - 1) return undefined;
            let g = acc.take(cfg.accumulate);
            if (dist) g = dist.reduceGradients(g, (k) => o.optimizer.resolveName(k)); // one bucketed allreduce per step
            if (cfg.gradClip !== null) {
              const r = clipGradNorm(g, cfg.gradClip);
              g = r.grads;
              gradNorm = r.norm;
            } else {
              gradNorm = globalGradNorm(g);
            }
            try {
              if (!Number.isFinite(gradNorm)) throw new Error(`step ${step + 1}: gradient norm is ${gradNorm}; stopping before the update (last checkpoint: step ${Math.max(savedAt, start)})`);
              o.optimizer.applyGradients(g);
            } finally {
              for (const t of g.values()) t.dispose();
            }
            return gradNorm;
          },
        };
        const { losses } = await o.step(batch, ctx);
        const loss = totalOf(losses);
        for (const [k, v] of Object.entries({ ...losses, total: loss })) {
          if (!Number.isFinite(v)) throw new Error(`step ${step + 1} (${batch.kind}): loss '${k}' is ${v}; stopping (last checkpoint: step ${Math.max(savedAt, start)})`);
        }
        const rec: TrainRecord = { step: step + 1, kind: batch.kind, lr, loss, losses, time: elapsed() };
        if (cfg.accumulate > 1) rec.micro = micro;
        if (gradNorm !== undefined) rec.gradNorm = gradNorm;
        metrics?.append(rec);
        progress.observe(batch.kind, loss);
        lastLosses = { ...losses, total: loss };
      }
      if (o.optimizer.step === optStepBefore) {
        throw new Error(`step ${step + 1}: the step function never applied an update (call ctx.update(grads) on every micro-batch)`);
      }
      done = step + 1;
      progress.update(done, lr);
      if (cfg.evalEvery && done % cfg.evalEvery === 0) await evaluate();
      if (cfg.checkpointEvery && done % cfg.checkpointEvery === 0 && done < cfg.steps) {
        save();
        await drawPlot();
      } else if (cfg.plotEvery && done % cfg.plotEvery === 0) {
        await drawPlot();
      }
    }
    const needFinal = dist ? dist.anyTrue(done > start || (writer && !fs.existsSync(files.checkpoint))) : done > start || !fs.existsSync(files.checkpoint);
    if (needFinal) {
      if (!stopped && cfg.evalEvery && done % cfg.evalEvery !== 0 && done > start) await evaluate();
      if (savedAt !== done) save();
    }
    await drawPlot();
  } finally {
    progress.stop();
    acc.dispose();
  }
  return { step: done, stopped, checkpointDir: files.checkpoint, metricsFile: files.metrics, plotFile: plot ? files.plot : undefined, lastLosses };
}
