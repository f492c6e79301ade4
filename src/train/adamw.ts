// AdamW with decoupled weight decay, PyTorch semantics (torch.optim.AdamW, amsgrad=False):
//   p <- p - lr*wd*p;  m <- b1*m + (1-b1)*g;  v <- b2*v + (1-b2)*g^2
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// t counts the updates of that parameter; a parameter with no gradient in a step is left untouched (as torch does
// for grad=None). lr and wd come from per-parameter groups (paramGroups.ts).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../model/params.ts';
import type { GradMap } from './gradClip.ts';
import { ADAMW_UPDATE, type AdamWUpdateAttrs } from '../backend/kernels/adamwUpdate.ts';
import { DEFAULT_LR_RULES, paramGroupFor, type LrPrefixRule, type ParamGroup } from './paramGroups.ts';

export interface AdamWOptions {
  lr: number;                 // base lr; the train loop overwrites `optimizer.lr` every step from the schedule
  betas?: [number, number];   // default [0.9, 0.999]
  eps?: number;               // default 1e-8
  weightDecay?: number;       // default 0.05 (the paper)
  textLrMult?: number;        // default 0.1 (the paper); ignored when lrRules is given
  lrRules?: LrPrefixRule[];   // name-prefix lr multipliers, first match wins
}

interface Slot { m: tf.Variable; v: tf.Variable; t: number }

/** Serialisable optimizer state: moments by parameter name plus per-parameter and global step counts. */
export interface AdamWState {
  step: number;
  slots: Map<string, { m: Float32Array; v: Float32Array; t: number; shape: number[] }>;
}

let nextId = 0; // TF.js variable names are process-global

export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly lrRules: LrPrefixRule[];
  /** Number of applyGradients calls (optimizer steps) so far. */
  step = 0;
  private readonly slots = new Map<string, Slot>();
  private readonly groups = new Map<string, ParamGroup>();
  private byVarName: Map<string, string> | null = null;

  constructor(readonly store: ParamStore, opts: AdamWOptions) {
    this.lr = opts.lr;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.05;
    this.lrRules = opts.lrRules ?? DEFAULT_LR_RULES(opts.textLrMult ?? 0.1);
  }

  /** The group (lr multiplier, whether it decays) of a parameter, by full dotted name. */
  groupOf(name: string): ParamGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = paramGroupFor(name, this.param(name).shape, this.lrRules);
      this.groups.set(name, g);
    }
    return g;
  }

  private param(name: string): tf.Variable {
    const hit = this.store.entries().find(([k]) => k === name);
    if (!hit) throw new Error(`AdamW: no parameter '${name}'`);
    return hit[1];
  }

  /** Maps a gradient key (parameter name, or the TF.js variable name tf.variableGrads uses) to the parameter name. */
  resolveName(key: string): string {
    if (!this.byVarName?.has(key)) {
      // (re)build: parameters may have been added since the last lookup
      this.byVarName = new Map();
      for (const [k, v] of this.store.entries()) {
        this.byVarName.set(k, k);
        this.byVarName.set(v.name, k);
      }
    }
    const name = this.byVarName.get(key);
    if (name === undefined) throw new Error(`AdamW: gradient for unknown parameter '${key}'`);
    if (!this.store.isTrainable(name)) throw new Error(`AdamW: gradient for non-trainable parameter '${name}'`);
    return name;
  }

  private slot(name: string, p: tf.Variable): Slot {
    let s = this.slots.get(name);
    if (!s) {
      const id = nextId++;
      const zeros = (): tf.Tensor => tf.zerosLike(p);
      s = { m: ownVariable(zeros(), `adamw.m.${name}#${id}`), v: ownVariable(zeros(), `adamw.v.${name}#${id}`), t: 0 };
      this.slots.set(name, s);
    }
    return s;
  }

  /**
   * One optimizer step with the current `lr`. Grads are keyed by parameter name or TF.js variable name; the caller
   * still owns (and disposes) them. Parameters absent from `grads` are not updated.
   */
  applyGradients(grads: GradMap | Record<string, tf.Tensor>): void {
    const list = grads instanceof Map ? [...grads] : Object.entries(grads);
    const entries = new Map(this.store.entries({ trainableOnly: true }));
    for (const [key, g] of list) {
      const name = this.resolveName(key);
      const p = entries.get(name)!;
      if (!sameShape(g.shape, p.shape)) throw new Error(`AdamW: gradient for '${name}' has shape [${g.shape}], parameter is [${p.shape}]`);
      const { lrMult, decay } = this.groupOf(name);
      const s = this.slot(name, p);
      s.t += 1;
      const lr = this.lr * lrMult;
      const wd = decay ? this.weightDecay : 0;
      const stepSize = lr / (1 - this.beta1 ** s.t);
      const bc2Sqrt = Math.sqrt(1 - this.beta2 ** s.t);
      if (tf.getKernel(ADAMW_UPDATE, tf.getBackend())) {
        // One fused pass (src/backend/kernels/adamwUpdate.ts) instead of ~10 full-size ops.
        const attrs: AdamWUpdateAttrs = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, decayFactor: 1 - lr * wd, stepSize, bc2Sqrt };
        const [np, nm, nv] = tf.engine().runKernel(ADAMW_UPDATE, { p, g, m: s.m, v: s.v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        p.assign(np!);
        s.m.assign(nm!);
        s.v.assign(nv!);
        tf.dispose([np!, nm!, nv!]);
        continue;
      }
      tf.tidy(() => {
        const m = tf.add(tf.mul(s.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        const decayed = wd > 0 ? tf.mul(p, 1 - lr * wd) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
        s.m.assign(m);
        s.v.assign(v);
      });
    }
    this.step += 1;
  }

  /** A copy of the state as plain arrays (for checkpoints). */
  getState(): AdamWState {
    const slots: AdamWState['slots'] = new Map();
    for (const [name, s] of this.slots) {
      slots.set(name, { m: s.m.dataSync() as Float32Array, v: s.v.dataSync() as Float32Array, t: s.t, shape: s.m.shape.slice() });
    }
    return { step: this.step, slots };
  }

  /** Restores a state; every slot must name a trainable parameter of the same shape (errors name the parameter). */
  setState(state: AdamWState, where = 'optimizer state'): void {
    const entries = new Map(this.store.entries({ trainableOnly: true }));
    for (const [name, s] of state.slots) {
      const p = entries.get(name);
      if (!p) throw new Error(`${where}: moments for parameter '${name}', which the model does not have (or is not trainable)`);
      if (!sameShape(s.shape, p.shape)) throw new Error(`${where}: moments for '${name}' have shape [${s.shape}] but the parameter is [${p.shape}]`);
    }
    this.disposeSlots();
    for (const [name, s] of state.slots) {
      const slot = this.slot(name, entries.get(name)!);
      tf.tidy(() => {
        slot.m.assign(tf.tensor(s.m, s.shape, 'float32'));
        slot.v.assign(tf.tensor(s.v, s.shape, 'float32'));
      });
      slot.t = s.t;
    }
    this.step = state.step;
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) { s.m.dispose(); s.v.dispose(); }
    this.slots.clear();
  }

  /** Frees the moment variables (the parameters belong to the store). */
  dispose(): void {
    this.disposeSlots();
  }
}

/** A non-trainable variable that takes over `init` (tf.variable keeps init alive as a separate tensor otherwise). */
function ownVariable(init: tf.Tensor, name: string): tf.Variable {
  const v = tf.variable(init, false, name);
  init.dispose();
  return v;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
