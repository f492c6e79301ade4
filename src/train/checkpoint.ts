// Training checkpoints: a directory with
//   model.safetensors      every parameter by dotted name (trainable or not)
//   optimizer.safetensors  AdamW moments `m.<name>` / `v.<name>`, per-parameter update counts `t.<name>`, global `step`
//   state.json             step, RNG + data-sampler states, metrics so far, resolved config, format version
// Saved atomically: everything goes to `DIR.tmp-<pid>` (each file fsynced), then the old DIR is renamed aside, the new
// one renamed in, and only then is the old one deleted. A crash never leaves DIR half-written; at worst DIR is absent
// and a complete `DIR.old-<pid>` / `DIR.tmp-<pid>` remains, which loadCheckpoint points the user to.
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteFileSync } from '../io/atomicWrite.ts';
import { readSafetensors, writeSafetensors, type StTensor, type StWriteTensor } from '../io/safetensors.ts';
import { UserError } from '../errors.ts';
import type { ParamStore } from '../model/params.ts';
import type { AdamW, AdamWState } from './adamw.ts';
import type { EmaState } from './progress.ts';
import type { EvalRecord } from './metricsLog.ts';

export const CHECKPOINT_VERSION = 1;

export interface TrainState {
  version: number;
  step: number;                         // optimizer steps completed
  rng: Record<string, unknown>;         // named RNG states (Rng.getState())
  data: unknown;                        // data-sampler state (loader.getState())
  metrics: { ema: EmaState; evals: EvalRecord[]; elapsed: number; lastLosses?: Record<string, number> };
  config: unknown;                      // resolved config of the run (compared on resume)
  savedAt?: string;
}

export interface LoadedCheckpoint {
  dir: string;
  params: Map<string, StTensor>;
  optimizer: AdamWState;
  state: TrainState;
}

const FILES = ['model.safetensors', 'optimizer.safetensors', 'state.json'] as const;

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

/** Writes a checkpoint into `dir`, replacing any previous one only once the new one is complete on disk. */
export function saveCheckpoint(dir: string, parts: { store: ParamStore; optimizer: AdamW; state: TrainState }): void {
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const model = new Map<string, StWriteTensor>();
    for (const [name, v] of parts.store.entries()) {
      model.set(name, { dtype: v.dtype === 'int32' ? 'I32' : 'F32', shape: v.shape.slice(), data: v.dataSync() as Float32Array | Int32Array });
    }
    writeSafetensors(path.join(tmp, 'model.safetensors'), model, { format: 'detclip-params' });
    const opt = parts.optimizer.getState();
    const optTensors = new Map<string, StWriteTensor>([['step', { dtype: 'I32', shape: [], data: [opt.step] }]]);
    for (const [name, s] of opt.slots) {
      optTensors.set(`m.${name}`, { shape: s.shape, data: s.m });
      optTensors.set(`v.${name}`, { shape: s.shape, data: s.v });
      optTensors.set(`t.${name}`, { dtype: 'I32', shape: [], data: [s.t] });
    }
    writeSafetensors(path.join(tmp, 'optimizer.safetensors'), optTensors, { format: 'detclip-adamw' });
    const state: TrainState = { ...parts.state, version: CHECKPOINT_VERSION, savedAt: new Date().toISOString() };
    atomicWriteFileSync(path.join(tmp, 'state.json'), JSON.stringify(state, null, 1) + '\n'); // last: marks completeness
    fsyncDir(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fs.rmSync(old, { recursive: true, force: true });
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, old);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    if (hadOld) fs.renameSync(old, target); // put the user's checkpoint back
    throw e;
  }
  fsyncDir(path.dirname(target));
  if (hadOld) fs.rmSync(old, { recursive: true, force: true });
}

/** Complete leftovers of an interrupted save next to a missing checkpoint dir. */
function leftovers(target: string): string[] {
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return [];
  const base = path.basename(target);
  return fs.readdirSync(parent)
    .filter((n) => n.startsWith(`${base}.old-`) || n.startsWith(`${base}.tmp-`))
    .map((n) => path.join(parent, n))
    .filter((p) => FILES.every((f) => fs.existsSync(path.join(p, f))));
}

/** Reads a checkpoint directory (nothing is applied yet: see restoreCheckpoint). Problems throw one-line UserErrors. */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const target = path.resolve(dir);
  if (!fs.existsSync(target)) {
    const left = leftovers(target);
    const hint = left.length ? ` (an interrupted save left the complete checkpoint ${left[0]}: rename it to ${dir} to resume from it)` : '';
    throw new UserError(`checkpoint directory ${dir} not found${hint}`);
  }
  if (!fs.statSync(target).isDirectory()) throw new UserError(`${dir}: not a checkpoint directory`);
  for (const f of FILES) if (!fs.existsSync(path.join(target, f))) throw new UserError(`${dir}: not a detclip checkpoint (missing ${f})`);
  const where = (f: string): string => path.join(dir, f);
  let state: TrainState;
  try {
    state = JSON.parse(fs.readFileSync(path.join(target, 'state.json'), 'utf8')) as TrainState;
  } catch (e) {
    throw new UserError(`${where('state.json')}: cannot parse (${(e as Error).message})`);
  }
  if (typeof state !== 'object' || state === null || !Number.isInteger(state.step) || state.step < 0) {
    throw new UserError(`${where('state.json')}: no valid 'step'`);
  }
  if (state.version !== CHECKPOINT_VERSION) {
    throw new UserError(`${where('state.json')}: checkpoint format version ${state.version}, this detclip reads version ${CHECKPOINT_VERSION}`);
  }
  let params: Map<string, StTensor>;
  let optTensors: Map<string, StTensor>;
  try {
    params = readSafetensors(path.join(target, 'model.safetensors')).tensors;
    optTensors = readSafetensors(path.join(target, 'optimizer.safetensors')).tensors;
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  const optimizer: AdamWState = { step: Number(optTensors.get('step')?.data[0] ?? state.step), slots: new Map() };
  for (const [key, t] of optTensors) {
    if (!key.startsWith('m.')) continue;
    const name = key.slice(2);
    const v = optTensors.get(`v.${name}`);
    if (!v) throw new UserError(`${where('optimizer.safetensors')}: 'm.${name}' has no matching 'v.${name}'`);
    optimizer.slots.set(name, {
      m: t.data as Float32Array, v: v.data as Float32Array, shape: t.shape, t: Number(optTensors.get(`t.${name}`)?.data[0] ?? optimizer.step),
    });
  }
  return { dir, params, optimizer, state };
}

/**
 * Applies a loaded checkpoint to the model and optimizer. Every model parameter must be present with the same
 * shape (errors name the parameter and the file); RNG/data/metrics state is left to the caller (state).
 */
export function restoreCheckpoint(ckpt: LoadedCheckpoint, parts: { store: ParamStore; optimizer?: AdamW }): void {
  const file = path.join(ckpt.dir, 'model.safetensors');
  // check everything before assigning anything, so a mismatch leaves the model untouched
  for (const [name, v] of parts.store.entries()) {
    const t = ckpt.params.get(name);
    if (!t) throw new UserError(`${file}: parameter '${name}' is missing from the checkpoint (was it saved by another model config?)`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new UserError(`${file}: parameter '${name}' has shape [${t.shape}] in the checkpoint but the model expects [${v.shape}]`);
    }
  }
  for (const name of ckpt.params.keys()) {
    if (!parts.store.has(name)) throw new UserError(`${file}: the checkpoint has parameter '${name}', which the model does not have`);
  }
  try {
    parts.store.load(ckpt.params, { strict: true, where: path.join(ckpt.dir, 'model.safetensors') });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  if (parts.optimizer) {
    try {
      parts.optimizer.setState(ckpt.optimizer, path.join(ckpt.dir, 'optimizer.safetensors'));
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }
}

/** Config keys that may change on resume (they do not change the numbers a run computes). */
export const RESUMABLE_CHANGES = ['train.checkpointEvery', 'train.evalEvery', 'train.plotEvery'];

/** The first differing leaf between two JSON values, as a dotted path with both values; null when equal. */
export function firstDifference(a: unknown, b: unknown, at = '', ignore: readonly string[] = []): { path: string; saved: unknown; now: unknown } | null {
  if (ignore.includes(at)) return null;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], at ? `${at}.${k}` : k, ignore);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : { path: at, saved: a, now: b };
}

/** Throws a one-line UserError when the run's config differs from the checkpoint's (beyond RESUMABLE_CHANGES). */
export function assertSameConfig(ckpt: LoadedCheckpoint, config: unknown): void {
  const saved = ckpt.state.config;
  const now = JSON.parse(JSON.stringify(config)) as unknown;
  const d = firstDifference(saved, now, '', RESUMABLE_CHANGES);
  if (d) {
    const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));
    throw new UserError(`${path.join(ckpt.dir, 'state.json')}: config mismatch at '${d.path || '(root)'}': the checkpoint has ${show(d.saved)}, this run has ${show(d.now)} (resume with the checkpoint's config)`);
  }
}
