// One rank of tests/train/distributed/collectives.test.ts: joins the group from the environment (RANK, WORLD_SIZE,
// MASTER_PORT) and runs allreduce / broadcast / allgather, printing what it got as one JSON line.
//   node --import tsx tests/train/distributed/collectivesChild.ts MODE     (MODE: collectives | tensors | die)
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/backend/index.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { AdamW } from '../../../src/train/adamw.ts';
import { DataParallel } from '../../../src/train/distributed/dataParallel.ts';
import { ProcessGroup, processGroupOptionsFromEnv } from '../../../src/train/distributed/processGroup.ts';

const mode = process.argv[2] ?? 'collectives';
const pg = ProcessGroup.init({ ...processGroupOptionsFromEnv()!, bucketMb: 1, checkInMs: 1000 });
const r = pg.rank;
if (mode === 'die') {
  // the last rank dies after the rendezvous; the others must fail fast, naming it
  pg.barrier();
  if (r === pg.worldSize - 1) process.kill(process.pid, 'SIGKILL');
  try {
    for (let i = 0; i < 100; i++) pg.allreduce([new Float32Array(1000)]);
    process.stdout.write(`${JSON.stringify({ rank: r, error: null })}\n`);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ rank: r, error: (e as Error).message, name: (e as Error).name })}\n`);
  }
  process.exit(0);
}
if (mode === 'tensors') {
  // tensor-level helpers on two ranks with different values; no tensor may leak
  await initBackend(undefined, { threads: 1 });
  const dp = new DataParallel(pg);
  const store = ParamStore.create();
  store.add('b.w', tf.fill([2, 3], r + 1));
  store.add('a.bias', tf.tensor1d([r, -r]));
  store.add('stat', tf.tensor1d([10 * r + 1]), false);
  const opt = new AdamW(store, { lr: 0.1 });
  if (r === 0) opt.applyGradients(new Map([['b.w', tf.ones([2, 3])]]) as Map<string, tf.Tensor>); // rank 0 has moments
  const before = tf.memory().numTensors;
  dp.syncFromWriter(store, opt, true);
  const slotTensors = tf.memory().numTensors - before; // rank 1 gains the two moment variables of b.w
  const params = Object.fromEntries(store.entries().map(([k, v]) => [k, [...v.dataSync()]]));
  const st = opt.getState();
  const moments = { step: st.step, names: [...st.slots.keys()], m: [...st.slots.get('b.w')!.m] };
  const grads = dp.reduceGradients(new Map([[store.get('a.bias').name, tf.tensor1d([1, r])], ['b.w', tf.fill([2, 3], r + 0.5)]]), (k) => opt.resolveName(k));
  const summed = Object.fromEntries([...grads].map(([k, g]) => [opt.resolveName(k), [...g.dataSync()]]));
  tf.dispose([...grads.values()]);
  const local = tf.tensor2d(r === 0 ? [1, 2, 3] : [4, 5, 6, 7, 8, 9], r === 0 ? [1, 3] : [2, 3]);
  const full = dp.gatherRows(local, r === 0 ? 0 : 1, 3);
  const gathered = [...full.dataSync()];
  tf.dispose([local, full]);
  const leaked = tf.memory().numTensors - before - slotTensors;
  opt.dispose();
  store.dispose();
  pg.destroy();
  process.stdout.write(`${JSON.stringify({ rank: r, params, moments, summed, gathered, leaked, slotTensors })}\n`);
  process.exit(0);
}
// small buffers share a bucket, a 2 MB one is reduced in place (bucketMb 1), an empty one is allowed
const small = [Float32Array.from([r + 1, -r, 0.5]), new Float32Array(0), Float32Array.from([r * 10])];
const big = new Float32Array(600_000).map((_, i) => (i % 7) * (r + 1));
pg.allreduce([...small, big]);
const mx = Float32Array.from([r, -r]);
pg.allreduce([mx], 'max');
const bc = [Int32Array.from([r, r * 2, 7]), new Float32Array(5).fill(r + 0.25)];
pg.broadcast(bc, 1);
const gathered = pg.allgatherJson({ rank: r, text: 'é'.repeat(r + 1) });
const fromRoot = pg.broadcastJson(r === 0 ? { hello: [1, 2, 3] } : undefined);
pg.barrier();
pg.destroy();
process.stdout.write(`${JSON.stringify({
  rank: r, small: small.map((a) => [...a]), bigHead: [...big.subarray(0, 8)], bigTail: big[599_999],
  max: [...mx], bc: bc.map((a) => [...a]), gathered, fromRoot,
})}\n`);
