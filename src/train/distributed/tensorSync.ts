// Moving training tensors through the process group: gradients summed across ranks (one bucketed allreduce),
// rank 0's parameters and AdamW moments copied to every rank. Tensors are read to Float32Arrays and written
// back, so any TF.js backend works. Lists are ordered by parameter name and checked to match across ranks.
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../../model/params.ts';
import type { AdamW, AdamWState } from '../adamw.ts';
import type { GradMap } from '../gradClip.ts';
import type { ProcessGroup } from './processGroup.ts';

/** A 31-bit FNV-1a hash of names and shapes: exact in float32 sums, so ranks can compare with one allreduce. */
function signature(items: [string, readonly number[]][]): number {
  let h = 0x811c9dc5;
  for (const [name, shape] of items) {
    for (const c of `${name}:${shape.join('x')};`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  }
  return (h >>> 8) & 0xffffff; // 24 bits: every value is exact in float32
}

/** Throws on every rank when the ranks' lists differ (max and min of the count and hash disagree). */
function assertSameEverywhere(pg: ProcessGroup, what: string, items: [string, readonly number[]][]): void {
  const sig = signature(items);
  const v = Float32Array.from([items.length, sig, -items.length, -sig]);
  pg.allreduce([v], 'max');
  if (v[0] !== items.length || v[1] !== sig || -v[2]! !== items.length || -v[3]! !== sig) {
    throw new Error(`distributed: rank ${pg.rank}'s ${what} (${items.length}) differ from another rank's (same preset, config and data on every rank?)`);
  }
}

/**
 * Sums the gradients over ranks and returns them as new tensors (the inputs are disposed). Keys are resolved to
 * parameter names by `nameOf`, so every rank sends the same list in the same order.
 */
export function allreduceGradients(pg: ProcessGroup, grads: GradMap, nameOf: (key: string) => string): GradMap {
  const list = [...grads].map(([key, t]) => ({ key, name: nameOf(key), t })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  assertSameEverywhere(pg, 'gradients', list.map((e) => [e.name, e.t.shape]));
  const arrays = list.map((e) => e.t.dataSync() as Float32Array);
  pg.allreduce(arrays);
  const out: GradMap = new Map();
  list.forEach((e, i) => {
    out.set(e.key, tf.tensor(arrays[i]!, e.t.shape, 'float32'));
    e.t.dispose();
  });
  return out;
}

/** Rank 0's value of every store entry (trainable or not) on every rank. */
export function broadcastParams(pg: ProcessGroup, store: ParamStore): void {
  const entries = [...store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  assertSameEverywhere(pg, 'parameters', entries.map(([k, v]) => [k, v.shape]));
  const arrays = entries.map(([, v]) => (v.dtype === 'int32' ? Int32Array.from(v.dataSync()) : Float32Array.from(v.dataSync())));
  pg.broadcast(arrays, 0);
  entries.forEach(([, v], i) => { tf.tidy(() => v.assign(tf.tensor(arrays[i]!, v.shape, v.dtype))); });
}

/** Rank 0's AdamW state (moments, per-parameter and global step counts) on every rank. */
export function broadcastOptimizerState(pg: ProcessGroup, optimizer: AdamW): void {
  const mine = pg.rank === 0 ? optimizer.getState() : undefined;
  const meta = pg.broadcastJson(mine && { step: mine.step, slots: [...mine.slots].map(([name, s]) => ({ name, t: s.t, shape: s.shape })) });
  const slots: AdamWState['slots'] = new Map();
  for (const s of meta.slots) {
    const got = mine?.slots.get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    slots.set(s.name, { m: got?.m ?? new Float32Array(n), v: got?.v ?? new Float32Array(n), t: s.t, shape: s.shape });
  }
  pg.broadcast([...slots.values()].flatMap((s) => [s.m, s.v]), 0);
  if (pg.rank !== 0) optimizer.setState({ step: meta.step, slots });
}
