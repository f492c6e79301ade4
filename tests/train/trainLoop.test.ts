import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, setupBackend } from '../helpers/tf.ts';
import { ParamStore } from '../../src/model/params.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { runTraining, type StepFn } from '../../src/train/trainLoop.ts';
import { applyOverrides } from '../../src/train/configOverrides.ts';
import { preset, type TrainConfig } from '../../src/train/trainConfig.ts';
import { readMetrics, type TrainRecord } from '../../src/train/metricsLog.ts';
import { UserError } from '../../src/errors.ts';

before(setupBackend);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-loop-'));
let runId = 0;
const outDir = (): string => path.join(tmp, `run${runId++}`);

/** mulberry32: a tiny seeded RNG with a one-number state (stands in for src/ops/rng.ts). */
class ToyRng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  getState(): unknown { return this.s; }
  setState(s: unknown): void { this.s = s as number; }
}

interface ToyBatch { kind: 'detection' | 'grounding' | 'imageText'; x: Float32Array; y: Float32Array }
const KINDS = ['detection', 'grounding', 'imageText'] as const;
const TRUE_W = [1.5, -2, 0.5];

/** Batches of 4 noisy linear-regression samples, kind drawn per batch; its state is the RNG state. */
class ToyLoader {
  rng = new ToyRng(1234);
  async next(): Promise<ToyBatch> {
    const kind = KINDS[Math.floor(this.rng.next() * 3)]!;
    const x = new Float32Array(12), y = new Float32Array(4);
    for (let i = 0; i < 4; i++) {
      let t = 0.3;
      for (let j = 0; j < 3; j++) { x[i * 3 + j] = this.rng.next() * 2 - 1; t += x[i * 3 + j]! * TRUE_W[j]!; }
      y[i] = t + 0.05 * (this.rng.next() - 0.5);
    }
    return { kind, x, y };
  }
  getState(): unknown { return { rng: this.rng.getState() }; }
  setState(s: unknown): void { this.rng.setState((s as { rng: unknown }).rng); }
}

function toyModel(): { store: ParamStore; optimizer: AdamW } {
  const store = ParamStore.create();
  store.add('head.weight', tf.zeros([3, 1]));
  store.add('text.bias', tf.zeros([1]));       // lr x0.1 group
  store.add('head.calls', tf.zeros([1]), false); // non-trainable state the step updates
  return { store, optimizer: new AdamW(store, { lr: 0.05 }) };
}

/** The "lead engineer's" step: MSE (+ a kind-specific weight) with a feature-dropout mask drawn from a named RNG. */
function toyStep(store: ParamStore, noise: ToyRng, hooks: { at?: (step: number) => void } = {}): StepFn<ToyBatch> {
  return async (batch, ctx) => {
    hooks.at?.(ctx.step);
    const keep = [noise.next() > 0.2 ? 1 : 0, 1, 1];
    const w = store.get('head.weight'), b = store.get('text.bias');
    const scale = batch.kind === 'imageText' ? 0.5 : 1;
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const x = tf.mul(tf.tensor2d(batch.x, [4, 3]), tf.tensor1d(keep));
      const pred = tf.add(tf.matMul(x, w), b);
      return tf.mul(tf.mean(tf.square(tf.sub(pred, tf.tensor2d(batch.y, [4, 1])))), scale) as tf.Scalar;
    }), [w, b]);
    const loss = value.dataSync()[0]!;
    value.dispose();
    ctx.update(new Map(Object.entries(grads)));
    tf.tidy(() => store.get('head.calls').assign(tf.add(store.get('head.calls'), 1)));
    return { losses: { mse: loss } };
  };
}

function config(over: string[] = []): TrainConfig {
  return applyOverrides(preset('tiny'), ['train.steps=6', 'train.warmup=2', 'train.lr=0.2', 'train.checkpointEvery=3', 'train.evalEvery=0',
    'train.plotEvery=0', 'train.gradClip=1', ...over]);
}

async function run(dir: string, cfg: TrainConfig, opts: { resumeFrom?: string; at?: (step: number) => void; signal?: AbortSignal;
  onEval?: (s: number) => Promise<Record<string, number>> } = {}): Promise<{ params: number[]; result: Awaited<ReturnType<typeof runTraining>> }> {
  const { store, optimizer } = toyModel();
  const noise = new ToyRng(99);
  try {
    const result = await runTraining({
      store, optimizer, loader: new ToyLoader(), step: toyStep(store, noise, { at: opts.at }), config: cfg, outDir: dir,
      resumeFrom: opts.resumeFrom, rngs: { noise }, quiet: true, plot: false, signal: opts.signal, onEval: opts.onEval,
    });
    return { params: store.entries().flatMap(([, v]) => [...v.dataSync()]), result };
  } finally {
    optimizer.dispose();
    store.dispose();
  }
}

const losses = (dir: string): number[] => readMetrics(path.join(dir, 'metrics.jsonl')).filter((r) => r.kind !== 'eval').map((r) => (r as TrainRecord).loss);

for (const accumulate of [1, 2]) {
  test(`resume after a crash gives exactly the uninterrupted losses and params (accumulate=${accumulate})`, async () => {
    const before = tf.memory().numTensors;
    const cfg = config([`train.accumulate=${accumulate}`]);
    const straight = outDir();
    const a = await run(straight, cfg);
    assert.equal(a.result.step, 6);
    const ref = losses(straight);
    assert.equal(ref.length, 6 * accumulate);
    assert.ok(ref[ref.length - 1]! < ref[0]!, 'the toy model learns');

    // crash inside step 5 (index 4), after the step-3 checkpoint: the metrics file has lines past the checkpoint
    const crashed = outDir();
    await assert.rejects(run(crashed, cfg, { at: (s) => { if (s === 4) throw new Error('boom'); } }), /boom/);
    assert.equal(losses(crashed).length, 4 * accumulate);
    const b = await run(crashed, cfg, { resumeFrom: path.join(crashed, 'checkpoint') });
    assert.deepEqual(losses(crashed), ref, 'loss sequence after resume');
    assert.deepEqual(b.params, a.params, 'final parameters (incl. non-trainable) after resume');
    const recs = readMetrics(path.join(crashed, 'metrics.jsonl')) as TrainRecord[];
    assert.deepEqual(recs.map((r) => r.step), readMetrics(path.join(straight, 'metrics.jsonl')).map((r) => r.step));
    assert.ok(recs.filter((r) => r.gradNorm !== undefined).length === 6, 'one grad norm per optimizer step');
    if (accumulate > 1) assert.deepEqual(recs.slice(0, 2).map((r) => r.micro), [0, 1]);
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind by the loop');
  });
}

test('stop on signal writes a checkpoint; resuming into another dir brings the metric history along', async () => {
  const cfg = config(['train.checkpointEvery=0']);
  const ref = losses((await run(outDir(), cfg)).result.checkpointDir.replace(/checkpoint$/, ''));
  const first = outDir();
  const ctl = new AbortController();
  const r = await run(first, cfg, { signal: ctl.signal, at: (s) => { if (s === 1) ctl.abort(); } });
  assert.equal(r.result.stopped, true);
  assert.equal(r.result.step, 2);
  const second = outDir();
  const done = await run(second, cfg, { resumeFrom: path.join(first, 'checkpoint') });
  assert.equal(done.result.step, 6);
  assert.deepEqual(losses(second), ref);
});

test('lr follows the schedule; eval every N (and at the end) is logged and checkpointed', async () => {
  const dir = outDir();
  const seen: number[] = [];
  const cfg = config(['train.evalEvery=4', 'train.steps=6']);
  await run(dir, cfg, { onEval: async (s) => { seen.push(s); return { ap: s / 100 }; } });
  assert.deepEqual(seen, [4, 6]);
  const recs = readMetrics(path.join(dir, 'metrics.jsonl'));
  assert.deepEqual(recs.filter((r) => r.kind === 'eval').map((r) => r.step), [4, 6]);
  const train = recs.filter((r) => r.kind !== 'eval') as TrainRecord[];
  // lr 0.2, warmup 2, total 6, floor 0.2*0.01: step0 0.1, step1 0.2, then cosine over 4 steps
  const hand = [0.1, 0.2, 0.2, 0.002 + 0.198 * 0.5 * (1 + Math.cos(Math.PI / 4)), 0.002 + 0.198 * 0.5,
    0.002 + 0.198 * 0.5 * (1 + Math.cos((3 * Math.PI) / 4))];
  train.forEach((r, i) => assert.ok(Math.abs(r.lr - hand[i]!) < 1e-12, `lr at step ${i + 1}`));
  const st = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'state.json'), 'utf8'));
  assert.equal(st.step, 6);
  assert.deepEqual(st.metrics.evals.map((e: { step: number }) => e.step), [4, 6]);
  assert.equal(st.config.train.lr, 0.2);
  assert.ok(st.rng.noise !== undefined && st.data.rng !== undefined);
});

test('refuses to overwrite a run, a resume with another config, non-finite losses, a step that never updates', async () => {
  const dir = outDir();
  await run(dir, config(['train.steps=3']));
  await assert.rejects(run(dir, config(['train.steps=3'])), (e: Error) => e instanceof UserError && /already holds a training run/.test(e.message));
  await assert.rejects(run(outDir(), config(['train.steps=3', 'train.lr=0.5']), { resumeFrom: path.join(dir, 'checkpoint') }),
    /config mismatch at 'train\.lr': the checkpoint has 0\.2, this run has 0\.5/);
  const { store, optimizer } = toyModel();
  const base = { store, optimizer, loader: new ToyLoader(), config: config(), quiet: true, plot: false };
  await assert.rejects(runTraining({ ...base, outDir: outDir(), step: async () => ({ losses: { mse: NaN } }) }), /step 1 \(\w+\): loss 'mse' is NaN/);
  await assert.rejects(runTraining({ ...base, outDir: outDir(), step: async () => ({ losses: { mse: 1 } }) }), /never applied an update/);
  optimizer.dispose();
  store.dispose();
});

test('writes loss.png when plotting', async () => {
  const dir = outDir();
  const { store, optimizer } = toyModel();
  const noise = new ToyRng(5);
  const r = await runTraining({ store, optimizer, loader: new ToyLoader(), step: toyStep(store, noise), config: config(['train.steps=3']),
    outDir: dir, rngs: { noise }, quiet: true });
  assert.equal(r.plotFile, path.join(dir, 'loss.png'));
  assert.ok(fs.statSync(r.plotFile!).size > 1000);
  optimizer.dispose();
  store.dispose();
});
