// 2 processes vs 1 process on the concatenated batch, tiny recipe on OVD-MNIST: the gradients of the first
// batches (each data kind) and a short loss curve through the production trainer (trainDetClip, AdamW).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setupBackend } from '../../helpers/tf.ts';
import { generateOvdMnist } from '../../../src/data/synth/ovdMnist.ts';
import { readMetrics, type TrainRecord } from '../../../src/train/metricsLog.ts';
import { distSkipReason, runRanks } from './ranks.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ddpChild.ts');
const skip = distSkipReason();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-ddp-'));
const dataDir = path.join(tmp, 'data');

before(async () => {
  if (skip) return;
  await setupBackend();
  await generateOvdMnist({ out: dataDir, seed: 5, train: 30, val: 3, poolLimit: 20 });
});

function single(args: string[], env: NodeJS.ProcessEnv = {}): void {
  const env1: NodeJS.ProcessEnv = { ...process.env, DETCLIP_THREADS: '1', ...env };
  for (const k of ['RANK', 'WORLD_SIZE', 'LOCAL_RANK']) delete env1[k];
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, ...args], { env: env1, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
}

async function pair(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const res = await runRanks(CHILD, args, 2, { timeoutMs: 90_000, env: { DETCLIP_DIST_TIMEOUT: '60', ...env } });
  for (const r of res) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
}

interface GradEntry { kind: string; losses: Record<string, number>; grads: { name: string; offset: number; length: number }[] }
function readGrads(dir: string): { index: GradEntry[]; data: Float32Array } {
  const buf = fs.readFileSync(path.join(dir, 'grads.bin'));
  return { index: JSON.parse(fs.readFileSync(path.join(dir, 'grads.json'), 'utf8')) as GradEntry[], data: new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4) };
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** Gradients of the first n batches, 1 process vs 2, compared per tensor and per loss. */
async function compareGradients(n: number, env: NodeJS.ProcessEnv, tag: string, tol: number): Promise<void> {
  const one = path.join(tmp, `grads1-${tag}`);
  const two = path.join(tmp, `grads2-${tag}`);
  single(['grads', dataDir, one, String(n)], env);
  await pair(['grads', dataDir, two, String(n)], env);
  const a = readGrads(one);
  const b = readGrads(two);
  assert.deepEqual(a.index.map((e) => e.kind), ['grounding', 'grounding', 'detection', 'imageText'].slice(0, n));
  a.index.forEach((ea, i) => {
    const eb = b.index[i]!;
    assert.equal(eb.kind, ea.kind);
    for (const k of Object.keys(ea.losses)) assert.ok(relDiff(eb.losses[k]!, ea.losses[k]!) < tol, `${tag}: batch ${i} loss ${k}: ${eb.losses[k]} vs ${ea.losses[k]}`);
    const byName = new Map(eb.grads.map((g) => [g.name, g]));
    assert.equal(byName.size, ea.grads.length);
    for (const g of ea.grads) {
      const h = byName.get(g.name);
      assert.ok(h, `batch ${i}: no gradient for ${g.name} with 2 processes`);
      const x = a.data.subarray(g.offset, g.offset + g.length);
      const y = b.data.subarray(h.offset, h.offset + h.length);
      let maxAbs = 0;
      let maxDiff = 0;
      for (let j = 0; j < x.length; j++) { maxAbs = Math.max(maxAbs, Math.abs(x[j]!)); maxDiff = Math.max(maxDiff, Math.abs(x[j]! - y[j]!)); }
      // relative to the tensor's largest entry: entries that are rounding noise have no meaningful relative error
      const rel = maxAbs === 0 ? maxDiff : maxDiff / maxAbs;
      assert.ok(rel < tol, `${tag}: batch ${i} (${ea.kind}) ${g.name}: relative difference ${rel}`);
    }
  });
}

test('2 processes give the gradients and losses of 1 process on the concatenated batch (every data kind)', { skip, timeout: 240_000 }, async () => {
  await compareGradients(4, {}, 'default', 1e-5);
});

test('the same on the wasm engine (gradients read out of wasm, reduced, written back)', { skip, timeout: 240_000 }, async () => {
  // wasm sums sequentially in float32: the focal loss over [B, K, M] (54k terms) and the gradient of the scalar
  // logit_scale (a sum over the same map) carry ~2e-5 relative rounding in one process already (torch sums
  // pairwise); the 2-process values are two half sums, so they agree to that rounding
  await compareGradients(4, { DETCLIP_BACKEND: 'wasm' }, 'wasm', 1e-4);
});

const curve = (dir: string): TrainRecord[] => readMetrics(path.join(dir, 'metrics.jsonl')).filter((r): r is TrainRecord => r.kind !== 'eval');

/** The same run with 1 and 2 processes; their metrics lines (loss per micro-batch, grad norm per step) must agree. */
async function compareCurves(tag: string, steps: number, env: NodeJS.ProcessEnv): Promise<{ a: TrainRecord[]; two: string }> {
  const one = path.join(tmp, `train1-${tag}`);
  const two = path.join(tmp, `train2-${tag}`);
  single(['train', dataDir, one, String(steps)], env);
  await pair(['train', dataDir, two, String(steps)], env);
  const a = curve(one);
  const b = curve(two);
  assert.equal(b.length, a.length, 'the same metrics lines: rank 1 does not log');
  a.forEach((r, i) => {
    assert.equal(b[i]!.kind, r.kind);
    assert.equal(b[i]!.micro, r.micro);
    assert.ok(relDiff(b[i]!.loss, r.loss) < 1e-4, `${tag}: step ${r.step} (${r.kind}): loss ${b[i]!.loss} vs ${r.loss}`);
    if (r.gradNorm !== undefined) assert.ok(relDiff(b[i]!.gradNorm!, r.gradNorm) < 1e-4, `${tag}: step ${r.step}: grad norm ${b[i]!.gradNorm} vs ${r.gradNorm}`);
  });
  return { a, two };
}

test('a 2-process training run follows the 1-process loss curve; rank 0 alone writes the run', { skip, timeout: 240_000 }, async () => {
  const { a, two } = await compareCurves('plain', 10, { ADAM_EPS: '1e-4' });
  assert.equal(a.length, 10);
  assert.ok(new Set(a.map((r) => r.kind)).size === 3, 'all three data kinds');
  const state = JSON.parse(fs.readFileSync(path.join(two, 'checkpoint', 'state.json'), 'utf8')) as { data: { world: number; ranks: unknown[] } };
  assert.equal(state.data.world, 2);
  assert.equal(state.data.ranks.length, 2);
  assert.ok(fs.existsSync(path.join(two, 'model', 'model.safetensors')));
});

test('with gradient accumulation (2 micro-batches per step) too', { skip, timeout: 240_000 }, async () => {
  const { a } = await compareCurves('accumulate', 4, { ADAM_EPS: '1e-4', ACCUMULATE: '2' });
  assert.deepEqual(a.map((r) => r.micro), [0, 1, 0, 1, 0, 1, 0, 1]);
});

test('a 2-process run stopped at a checkpoint and resumed repeats the uninterrupted run bit for bit', { skip, timeout: 240_000 }, async () => {
  const straight = path.join(tmp, 'straight2');
  const part = path.join(tmp, 'part2');
  await pair(['train', dataDir, straight, '6'], { STOP_AT: '', RESUME: '' });
  await pair(['train', dataDir, part, '6'], { STOP_AT: '3' }); // rank 0 sees the stop; both ranks stop at step 3
  const losses = (dir: string): string[] => readMetrics(path.join(dir, 'metrics.jsonl')).filter((r) => r.kind !== 'eval').map((r) => `${r.step} ${r.kind} ${(r as TrainRecord).loss}`);
  assert.equal(losses(part).length, 3);
  await pair(['train', dataDir, part, '6'], { RESUME: path.join(part, 'checkpoint') });
  assert.deepEqual(losses(part), losses(straight));
  // a different number of processes cannot resume it (WebDataset positions are per rank)
  assert.throws(() => single(['train', dataDir, path.join(tmp, 'one-from-two'), '6'], { RESUME: path.join(part, 'checkpoint') }), /written by a 2-process run; resume it with 2 processes/);
});
