// Training checkpoints: a directory with
//   model.safetensors      every parameter by dotted name (trainable or not)
//   optimizer.safetensors  AdamW moments `m.<name>` / `v.<name>`, per-parameter update counts `t.<name>`, global `step`
//   state.json             step, RNG + data-sampler states, metrics so far, resolved config, format version, and
//                          (src/io/integrity.ts) its own checksum plus each safetensors file's size and checksum
// Saved atomically: everything goes to `DIR.tmp-<pid>` (each file fsynced), then the old DIR is renamed aside, the new
// one renamed in, and only then is the old one deleted. A crash never leaves DIR half-written; at worst DIR is absent
// and a complete `DIR.old-<pid>` / `DIR.tmp-<pid>` remains, which loadCheckpoint then loads instead (the newest that
// verifies). Leftovers of processes that are gone are deleted after the next successful save.
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteFileSync } from '../io/atomicWrite.ts';
import { readSafetensors, writeSafetensors, ST_CRC_KEY, type StTensor, type StWriteTensor } from '../io/safetensors.ts';
import { checkFileRecord, stampJson, verifyJson, type FileRecords } from '../io/integrity.ts';
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
  dir: string;                          // the directory read: the one asked for, or a leftover (recoveredFrom)
  recoveredFrom?: string;               // set when the asked-for dir was missing and an interrupted save's leftover was read
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
    const files: FileRecords = {};
    files['model.safetensors'] = record(writeSafetensors(path.join(tmp, 'model.safetensors'), model, { format: 'detclip-params' }));
    const opt = parts.optimizer.getState();
    const optTensors = new Map<string, StWriteTensor>([['step', { dtype: 'I32', shape: [], data: [opt.step] }]]);
    for (const [name, s] of opt.slots) {
      optTensors.set(`m.${name}`, { shape: s.shape, data: s.m });
      optTensors.set(`v.${name}`, { shape: s.shape, data: s.v });
      optTensors.set(`t.${name}`, { dtype: 'I32', shape: [], data: [s.t] });
    }
    files['optimizer.safetensors'] = record(writeSafetensors(path.join(tmp, 'optimizer.safetensors'), optTensors, { format: 'detclip-adamw' }));
    const state: TrainState = { ...parts.state, version: CHECKPOINT_VERSION, savedAt: new Date().toISOString() };
    atomicWriteFileSync(path.join(tmp, 'state.json'), JSON.stringify(stampJson(state, files), null, 1) + '\n'); // last: marks completeness
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
  for (const p of leftovers(target)) if (!alive(p.pid)) fs.rmSync(p.dir, { recursive: true, force: true });
}

function record(w: { bytes: number; crc32?: string }): { bytes: number; crc32: string } {
  return { bytes: w.bytes, crc32: w.crc32! };
}

/** Whether a process with this id exists (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** `DIR.old-<pid>` / `DIR.tmp-<pid>` next to the checkpoint dir (complete or not). */
function leftovers(target: string): { dir: string; pid: number }[] {
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return [];
  const base = path.basename(target);
  const out: { dir: string; pid: number }[] = [];
  for (const n of fs.readdirSync(parent)) {
    const m = /^\.(old|tmp)-(\d+)$/.exec(n.slice(base.length));
    if (n.startsWith(base) && m) out.push({ dir: path.join(parent, n), pid: Number(m[2]) });
  }
  return out;
}

/** A missing checkpoint dir: the newest complete leftover of an interrupted save that loads, else a UserError. */
function recover(dir: string, target: string): LoadedCheckpoint {
  const complete = leftovers(target).map((l) => l.dir).filter((p) => FILES.every((f) => fs.existsSync(path.join(p, f))));
  let best: LoadedCheckpoint | undefined;
  let firstError: string | undefined;
  for (const p of complete) {
    try {
      const c = readCheckpointDir(p);
      if (!best || c.state.step > best.state.step) best = c;
    } catch (e) {
      firstError ??= (e as Error).message;
    }
  }
  if (best) return { ...best, recoveredFrom: best.dir };
  const hint = firstError ? ` (an interrupted save left ${complete.length === 1 ? 'a checkpoint' : 'checkpoints'} that cannot be read: ${firstError})` : '';
  throw new UserError(`checkpoint directory ${dir} not found${hint}`);
}

/**
 * Reads a checkpoint directory (nothing is applied yet: see restoreCheckpoint), checking every checksum it has.
 * When `dir` is missing because a save was interrupted, reads the newest complete leftover instead
 * (`recoveredFrom`). Problems throw one-line UserErrors naming the file.
 */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const target = path.resolve(dir);
  if (!fs.existsSync(target)) return recover(dir, target);
  return readCheckpointDir(dir);
}

function readCheckpointDir(dir: string): LoadedCheckpoint {
  const target = path.resolve(dir);
  if (!fs.statSync(target).isDirectory()) throw new UserError(`${dir}: not a checkpoint directory`);
  for (const f of FILES) if (!fs.existsSync(path.join(target, f))) throw new UserError(`${dir}: not a detclip checkpoint (missing ${f})`);
  const where = (f: string): string => path.join(dir, f);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(path.join(target, 'state.json'), 'utf8'));
  } catch (e) {
    throw new UserError(`${where('state.json')}: cannot parse, damaged or truncated (${(e as Error).message.split('\n')[0]})`);
  }
  const { body, files } = verifyJson(where('state.json'), parsed);
  const { files: _f, ...rest } = body ?? {};
  const state = (body === null || typeof body !== 'object' ? body : rest) as unknown as TrainState;
  if (typeof state !== 'object' || state === null || !Number.isInteger(state.step) || state.step < 0) {
    throw new UserError(`${where('state.json')}: no valid 'step'`);
  }
  if (state.version !== CHECKPOINT_VERSION) {
    throw new UserError(`${where('state.json')}: checkpoint format version ${state.version}, this detclip reads version ${CHECKPOINT_VERSION}`);
  }
  let params: Map<string, StTensor>;
  let optTensors: Map<string, StTensor>;
  const read = (f: 'model.safetensors' | 'optimizer.safetensors'): Map<string, StTensor> => {
    let r: ReturnType<typeof readSafetensors>;
    try { r = readSafetensors(path.join(target, f)); } catch (e) { throw new UserError((e as Error).message); }
    checkFileRecord(where(f), where('state.json'), files?.[f], { bytes: r.bytes, crc32: r.metadata[ST_CRC_KEY] });
    return r.tensors;
  };
  params = read('model.safetensors');
  optTensors = read('optimizer.safetensors');
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
