// One process of tests/train/distributed/ddpEquivalence.test.ts: the tiny recipe on OVD-MNIST, distributed when
// the environment says so (RANK, WORLD_SIZE, ...), else one process.
//   node --import tsx ddpChild.ts grads DATA OUT N     gradients of the first N batches -> OUT/grads.json + .bin (rank 0)
//   node --import tsx ddpChild.ts train DATA OUT STEPS trainDetClip into OUT (env STOP_AT, RESUME: see below)
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../../../src/backend/index.ts';
import { ovdMnistDataConfig } from '../../../src/data/config.ts';
import { createMixedLoader } from '../../../src/data/mixedLoader.ts';
import { buildDetClip } from '../../../src/model/detclip.ts';
import { AdamW } from '../../../src/train/adamw.ts';
import { DataParallel } from '../../../src/train/distributed/dataParallel.ts';
import { resolveRecipe } from '../../../src/train/recipe.ts';
import { dataConfigForTraining, trainDetClip } from '../../../src/train/trainDetClip.ts';
import { computeGradients, lossConfigFrom } from '../../../src/train/trainStep.ts';

const SMALL = ['model.text.width=16', 'model.text.heads=2', 'model.text.layers=1', 'model.text.outputDim=16', 'model.head.embedDim=16',
  'model.fpn.outChannels=16', 'model.head.gnGroups=4', 'model.head.towerConvs=1', 'train.seed=4',
  'data.detection.batchSize=4', 'data.grounding.batchSize=4', 'data.imageText.batchSize=4', 'imageText.k=4',
  // eps above the gradients' rounding noise: with 1e-8, AdamW moves an element whose gradient is rounding noise
  // (true value ~0) by about ±lr, so any change in summation order (ranks, threads, BLAS) changes the trajectory
  ...(process.env.ADAM_EPS ? [`train.eps=${process.env.ADAM_EPS}`] : []), ...(process.env.STOP_AT || process.env.RESUME ? ['train.checkpointEvery=3'] : []),
  ...(process.env.ACCUMULATE ? [`train.accumulate=${process.env.ACCUMULATE}`] : [])];

const [mode, dataDir, out, nArg] = process.argv.slice(2) as [string, string, string, string];
await initBackend(undefined, { threads: 1 });
const dp = DataParallel.fromEnv();
const writer = !dp || dp.isWriter;
const n = Number(nArg);
const recipe = resolveRecipe('tiny', [...SMALL, `train.steps=${n}`, 'train.warmup=2']);

if (mode === 'grads') {
  const model = buildDetClip(recipe.model, recipe.train.train.seed);
  const optimizer = new AdamW(model.store, { lr: 1e-3 }); // only to map gradient keys to parameter names
  if (dp) dp.syncFromWriter(model.store, optimizer, false);
  const data = dataConfigForTraining(ovdMnistDataConfig(dataDir), recipe.train);
  const loader = await createMixedLoader(data, { seed: recipe.train.train.seed, workers: 0, shard: dp && { rank: dp.rank, world: dp.worldSize } });
  const lossCfg = lossConfigFrom(recipe.train);
  const index: { kind: string; losses: Record<string, number>; grads: { name: string; offset: number; length: number }[] }[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const batch = await loader.next();
    let { losses, grads } = computeGradients(model, batch, lossCfg, dp);
    if (dp) grads = dp.reduceGradients(grads, (k) => optimizer.resolveName(k));
    const entry = { kind: batch.kind, losses, grads: [] as { name: string; offset: number; length: number }[] };
    for (const [k, g] of grads) {
      const a = g.dataSync() as Float32Array;
      entry.grads.push({ name: optimizer.resolveName(k), offset, length: a.length });
      chunks.push(Float32Array.from(a));
      offset += a.length;
      g.dispose();
    }
    index.push(entry);
  }
  await loader.close();
  if (writer) {
    fs.mkdirSync(out, { recursive: true });
    const all = new Float32Array(offset);
    let o = 0;
    for (const c of chunks) { all.set(c, o); o += c.length; }
    fs.writeFileSync(path.join(out, 'grads.bin'), Buffer.from(all.buffer));
    fs.writeFileSync(path.join(out, 'grads.json'), JSON.stringify(index));
  }
  optimizer.dispose();
  model.dispose();
} else {
  // STOP_AT=S: rank 0 asks to stop (as Ctrl-C does) once step S's checkpoint is written; RESUME=DIR resumes
  const stop = new AbortController();
  const log = (l: string): void => { if (process.env.STOP_AT && l.startsWith(`step ${process.env.STOP_AT}: checkpoint`)) stop.abort(); };
  const r = await trainDetClip({ model: recipe.model, train: recipe.train, data: ovdMnistDataConfig(dataDir), outDir: out, quiet: true, workers: 0, dist: dp,
    log, signal: stop.signal, resume: process.env.RESUME || undefined });
  r.model.dispose();
}
dp?.pg.destroy();
process.stdout.write(`${JSON.stringify({ rank: dp?.rank ?? 0, ok: true })}\n`);
