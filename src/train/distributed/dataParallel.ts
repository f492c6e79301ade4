// The data-parallel context the trainer uses: one process per rank, each with a slice of the global batch.
// Semantics: equal to one process on the concatenated batch. Loss normalisers (positives, Σ centerness) are
// summed over ranks before the forward pass, so each rank's loss is its share of the global loss and the
// gradients are summed; image-text scores are exchanged so every rank sees the global [B, B] score matrix.
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../errors.ts';
import type { Batch } from '../../data/types.ts';
import type { ParamStore } from '../../model/params.ts';
import type { AdamW } from '../adamw.ts';
import type { GradMap } from '../gradClip.ts';
import { globalizeBatch, shardInfo, type GlobalView } from './globalBatch.ts';
import { ProcessGroup, processGroupOptionsFromEnv } from './processGroup.ts';
import { allreduceGradients, broadcastOptimizerState, broadcastParams } from './tensorSync.ts';

/** The loader state of a distributed run's checkpoint: every rank's (WebDataset positions differ by rank). */
export interface RankedLoaderState { world: number; ranks: unknown[] }

export class DataParallel {
  constructor(readonly pg: ProcessGroup) {}

  /** The run a launcher started (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, ...); undefined for one process. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): DataParallel | undefined {
    const o = processGroupOptionsFromEnv(env);
    return o && new DataParallel(ProcessGroup.init(o));
  }

  get rank(): number { return this.pg.rank; }
  get worldSize(): number { return this.pg.worldSize; }
  /** Rank 0 alone writes metrics, plots, checkpoints and the model. */
  get isWriter(): boolean { return this.pg.rank === 0; }

  /** This rank's batch in global concept indices, with every image's text (one small allgather). */
  globalize(batch: Batch): GlobalView {
    return globalizeBatch(batch, this.pg.allgatherJson(shardInfo(batch)), this.rank);
  }

  /** Element-wise sums over ranks of a few numbers. */
  sum(values: number[]): number[] {
    const v = Float32Array.from(values);
    this.pg.allreduce([v]);
    return [...v];
  }

  /** True on every rank when it is true on any (e.g. a stop request seen by some ranks only). */
  anyTrue(flag: boolean): boolean {
    const v = Float32Array.from([flag ? 1 : 0]);
    this.pg.allreduce([v], 'max');
    return v[0]! > 0;
  }

  /**
   * local [B_r, T] (this rank's rows, at `offset`) -> [B, T]: the other ranks' rows arrive as constants, so
   * the gradient flows only into this rank's rows, and the sum of the ranks' gradients is the global one.
   */
  gatherRows(local: tf.Tensor2D, offset: number, total: number): tf.Tensor2D {
    const [rows, T] = local.shape;
    const all = new Float32Array(total * T);
    all.set(local.dataSync(), offset * T);
    this.pg.allreduce([all]);
    return tf.tidy(() => {
      const parts: tf.Tensor2D[] = [];
      if (offset > 0) parts.push(tf.tensor2d(all.subarray(0, offset * T), [offset, T]));
      parts.push(local);
      if (offset + rows < total) parts.push(tf.tensor2d(all.subarray((offset + rows) * T), [total - offset - rows, T]));
      return parts.length === 1 ? tf.clone(local) : tf.concat(parts, 0);
    });
  }

  /** Loss values summed over ranks (each rank gives its share); keys are the same on every rank. */
  sumLosses(losses: Record<string, number>): Record<string, number> {
    const keys = Object.keys(losses).sort();
    const total = this.sum(keys.map((k) => losses[k]!));
    return Object.fromEntries(keys.map((k, i) => [k, total[i]!]));
  }

  reduceGradients(grads: GradMap, nameOf: (key: string) => string): GradMap {
    return allreduceGradients(this.pg, grads, nameOf);
  }

  /** Rank 0's parameters (and AdamW state, when resuming) on every rank. */
  syncFromWriter(store: ParamStore, optimizer: AdamW, withOptimizer: boolean): void {
    broadcastParams(this.pg, store);
    if (withOptimizer) broadcastOptimizerState(this.pg, optimizer);
  }

  /** Every rank's loader state, for rank 0's checkpoint. */
  gatherLoaderStates(state: unknown): RankedLoaderState {
    return { world: this.worldSize, ranks: this.pg.allgatherJson(state) };
  }

  /** This rank's loader state from a checkpoint's `data` (written by a run of the same number of processes). */
  loaderStateOf(saved: unknown, where: string): unknown {
    const s = saved as Partial<RankedLoaderState> | undefined;
    if (!s || !Array.isArray(s.ranks) || typeof s.world !== 'number') {
      throw new UserError(`${where}: written by a single-process run; resume it with one process`);
    }
    if (s.world !== this.worldSize) throw new UserError(`${where}: written by a ${s.world}-process run; resume it with ${s.world} processes, not ${this.worldSize}`);
    return s.ranks[this.rank];
  }
}

/** A single-process run resuming a distributed checkpoint: name the mismatch instead of a loader-state error. */
export function assertSingleProcessState(saved: unknown, where: string): void {
  const s = saved as Partial<RankedLoaderState> | undefined;
  if (s && Array.isArray(s.ranks)) throw new UserError(`${where}: written by a ${s.world}-process run; resume it with ${s.world} processes`);
}
