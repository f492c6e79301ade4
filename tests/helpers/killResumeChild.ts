// A training run for tests/train/killResume.test.ts: the production loop (src/train/trainLoop.ts: checkpoints,
// metrics, exact resume) on a 2-layer MLP big enough (~0.6M parameters, ~7 MB per checkpoint) that a kill often
// lands inside a checkpoint write. Resumes from OUT/checkpoint when it exists.
//   node --import tsx tests/helpers/killResumeChild.ts OUT STEPS
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend/index.ts';
import { ParamStore } from '../../src/model/params.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { runTraining } from '../../src/train/trainLoop.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { applyOverrides } from '../../src/train/configOverrides.ts';
import { preset } from '../../src/train/trainConfig.ts';

const [outDir, stepsArg] = process.argv.slice(2);
const D = 24, H = 24000;

/** xorshift32: a one-number state the checkpoint records. */
class Rng {
  constructor(public s: number) {}
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s / 4294967296; }
  getState(): unknown { return this.s; }
  setState(s: unknown): void { this.s = s as number; }
}

interface Batch { kind: 'detection'; x: Float32Array; y: Float32Array }
const rng = new Rng(99);
const loader = {
  async next(): Promise<Batch> {
    const x = Float32Array.from({ length: 8 * D }, () => rng.next() * 2 - 1);
    const y = Float32Array.from({ length: 8 }, (_, i) => Math.sin(3 * x[i * D]!) + x[i * D + 1]! * x[i * D + 2]!);
    return { kind: 'detection', x, y };
  },
  getState: () => ({ rng: rng.getState() }),
  setState: (s: unknown) => rng.setState((s as { rng: unknown }).rng),
};

await initBackend(undefined, { threads: 1 });
const init = new Rng(7);
const rand = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => (init.next() * 2 - 1) * scale);
const store = ParamStore.create();
store.add('l1.weight', tf.tensor2d(rand(D * H, 1 / Math.sqrt(D)), [D, H]));
store.add('l2.weight', tf.tensor2d(rand(H, 1 / Math.sqrt(H)), [H, 1]));
const optimizer = new AdamW(store, { lr: 1e-3 });
const config = applyOverrides(preset('tiny'), [`train.steps=${stepsArg}`, 'train.warmup=2', 'train.lr=0.001', 'train.checkpointEvery=1',
  'train.evalEvery=0', 'train.plotEvery=0', 'train.gradClip=null']);
const ckpt = path.join(outDir!, 'checkpoint');
// Resume from the checkpoint (or an interrupted save's complete leftover); none yet: start over, as a user would.
let resumeFrom: string | undefined = ckpt;
try { loadCheckpoint(ckpt); } catch (e) {
  if (!/^checkpoint directory .* not found$/.test((e as Error).message)) throw e;
  resumeFrom = undefined;
  fs.rmSync(outDir!, { recursive: true, force: true });
}
process.stdout.write('started\n');
await runTraining({
  store, optimizer, loader, config, outDir: outDir!, quiet: true, plot: false, resumeFrom,
  step: async (b, ctx) => {
    const w1 = store.get('l1.weight'), w2 = store.get('l2.weight');
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
      const h = tf.relu(tf.matMul(tf.tensor2d(b.x, [8, D]), w1));
      return tf.mean(tf.square(tf.sub(tf.matMul(h, w2), tf.tensor2d(b.y, [8, 1])))) as tf.Scalar;
    }), [w1, w2]);
    const loss = value.dataSync()[0]!;
    value.dispose();
    ctx.update(new Map(Object.entries(grads)));
    return { losses: { mse: loss } };
  },
});
process.stdout.write('done\n');
