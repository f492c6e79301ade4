// `npm run bench:ddp`: data-parallel training of the tiny demo recipe on OVD-MNIST, 1 process vs 2 (c10d Gloo on
// loopback), 1 thread per process, same global batch. Prints images/s of each and, last,
//   ratio nproc2_vs_1=X grad_maxdiff=Y
// (X = images/s of 2 processes / 1 process; Y = the largest per-tensor max|g2 - g1| / max|g1| over the first batches).
//   npx tsx bench/ddp.ts [--steps 40] [--grad-batches 3] [--backend torch|wasm]
//   (internal: --child train|grads DATA OUT)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/index.ts';
import { ovdMnistDataConfig } from '../src/data/config.ts';
import { createMixedLoader } from '../src/data/mixedLoader.ts';
import { generateOvdMnist } from '../src/data/synth/ovdMnist.ts';
import { buildDetClip } from '../src/model/detclip.ts';
import { AdamW } from '../src/train/adamw.ts';
import { DataParallel } from '../src/train/distributed/dataParallel.ts';
import { readMetrics, type TrainRecord } from '../src/train/metricsLog.ts';
import { resolveRecipe } from '../src/train/recipe.ts';
import { dataConfigForTraining, trainDetClip } from '../src/train/trainDetClip.ts';
import { computeGradients, lossConfigFrom } from '../src/train/trainStep.ts';

const { values: a } = parseArgs({ options: {
  steps: { type: 'string', default: '40' }, 'grad-batches': { type: 'string', default: '3' }, backend: { type: 'string' },
  child: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
} });
const SELF = new URL(import.meta.url).pathname;
const steps = Number(a.steps);
const WARMUP_STEPS = 5; // excluded from images/s: first-touch allocations, V8 tier-up

function recipe() {
  return resolveRecipe('tiny', [`train.steps=${steps}`, 'train.checkpointEvery=100000', 'train.evalEvery=0', 'train.plotEvery=0']);
}

async function child(mode: string, dataDir: string, out: string): Promise<void> {
  await initBackend(a.backend, { threads: 1 });
  const dp = DataParallel.fromEnv();
  const r = recipe();
  if (mode === 'train') {
    // time spent inside collectives (waiting for the peer included), reported by rank 0 for the breakdown
    let commMs = 0;
    if (dp) {
      for (const m of ['allreduce', 'broadcast'] as const) {
        const f = dp.pg[m].bind(dp.pg) as (...x: unknown[]) => void;
        (dp.pg as unknown as Record<string, unknown>)[m] = (...x: unknown[]): void => { const t = performance.now(); f(...x); commMs += performance.now() - t; };
      }
    }
    const cpu0 = process.cpuUsage();
    const res = await trainDetClip({ model: r.model, train: r.train, data: ovdMnistDataConfig(dataDir), outDir: out, quiet: true, workers: 0, dist: dp });
    const cpu = process.cpuUsage(cpu0);
    res.model.dispose();
    // CPU time per step of this process (load-independent: shows the work split even on busy cores)
    if (!dp || dp.isWriter) fs.writeFileSync(`${out}.cost`, JSON.stringify({ commMs: commMs / steps, cpuMs: (cpu.user + cpu.system) / 1000 / steps }));
  } else {
    const model = buildDetClip(r.model, r.train.train.seed);
    const opt = new AdamW(model.store, { lr: 1e-3 }); // maps gradient keys to parameter names
    const loader = await createMixedLoader(dataConfigForTraining(ovdMnistDataConfig(dataDir), r.train), { seed: r.train.train.seed, workers: 0, shard: dp && { rank: dp.rank, world: dp.worldSize } });
    const grads: Record<string, number[]>[] = [];
    for (let i = 0; i < Number(a['grad-batches']); i++) {
      let { grads: g } = computeGradients(model, await loader.next(), lossConfigFrom(r.train), dp);
      if (dp) g = dp.reduceGradients(g, (k) => opt.resolveName(k));
      grads.push(Object.fromEntries([...g].map(([k, t]) => [opt.resolveName(k), [...t.dataSync()]])));
      for (const t of g.values()) t.dispose();
    }
    await loader.close();
    if (!dp || dp.isWriter) fs.writeFileSync(out, JSON.stringify(grads));
    opt.dispose();
    model.dispose();
  }
  dp?.pg.destroy();
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

/** Runs `world` copies of this script in child mode (world 1: no distributed variables). */
async function run(world: number, mode: string, dataDir: string, out: string): Promise<void> {
  const port = await freePort();
  const base: NodeJS.ProcessEnv = { ...process.env, DETCLIP_THREADS: '1' };
  for (const k of ['RANK', 'WORLD_SIZE', 'LOCAL_RANK']) delete base[k];
  const codes = await Promise.all([...Array(world).keys()].map((rank) => new Promise<number | null>((resolve) => {
    const env = world === 1 ? base : { ...base, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) };
    const args = [...process.execArgv, SELF, '--child', mode, '--data', dataDir, '--out', out, '--steps', String(steps), '--grad-batches', a['grad-batches']!, ...(a.backend ? ['--backend', a.backend] : [])];
    spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env }).on('exit', resolve);
  })));
  if (codes.some((c) => c !== 0)) throw new Error(`${mode} with ${world} process(es) failed: exit codes ${codes.join(', ')}`);
}

/** Images per second and ms per step after the warm-up steps, from the run's metrics (time = training seconds so far). */
function throughput(out: string, batchOf: Record<string, number>): { ips: number; msPerStep: number } {
  const recs = readMetrics(path.join(out, 'metrics.jsonl')).filter((r): r is TrainRecord => r.kind !== 'eval');
  const timed = recs.filter((r) => r.step > WARMUP_STEPS);
  const images = timed.reduce((s, r) => s + batchOf[r.kind]!, 0);
  const seconds = timed.at(-1)!.time - recs.find((r) => r.step === WARMUP_STEPS)!.time;
  return { ips: images / seconds, msPerStep: (1000 * seconds) / timed.length };
}

function gradMaxDiff(f1: string, f2: string): number {
  const g1 = JSON.parse(fs.readFileSync(f1, 'utf8')) as Record<string, number[]>[];
  const g2 = JSON.parse(fs.readFileSync(f2, 'utf8')) as Record<string, number[]>[];
  let worst = 0;
  g1.forEach((byName, i) => {
    for (const [name, x] of Object.entries(byName)) {
      const y = g2[i]![name];
      if (!y) throw new Error(`batch ${i}: no gradient for ${name} with 2 processes`);
      let maxAbs = 0;
      let maxDiff = 0;
      x.forEach((v, j) => { maxAbs = Math.max(maxAbs, Math.abs(v)); maxDiff = Math.max(maxDiff, Math.abs(v - y[j]!)); });
      worst = Math.max(worst, maxAbs === 0 ? maxDiff : maxDiff / maxAbs);
    }
  });
  return worst;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-bench-ddp-'));
  const dataDir = path.join(tmp, 'data');
  await initBackend(a.backend, { threads: 1 });
  await generateOvdMnist({ out: dataDir, seed: 1, train: 300, val: 2, poolLimit: 60 });
  const t = recipe().train.data;
  const batchOf = { detection: t.detection.batchSize, grounding: t.grounding.batchSize, imageText: t.imageText.batchSize };
  const ips: number[] = [];
  for (const world of [1, 2]) {
    const out = path.join(tmp, `train${world}`);
    await run(world, 'train', dataDir, out);
    const tp = throughput(out, batchOf);
    ips.push(tp.ips);
    const cost = JSON.parse(fs.readFileSync(`${out}.cost`, 'utf8')) as { commMs: number; cpuMs: number };
    const comm = world > 1 ? `, ${cost.commMs.toFixed(1)} ms/step in collectives` : '';
    console.log(`nproc ${world}: ${ips.at(-1)!.toFixed(1)} images/s, ${tp.msPerStep.toFixed(0)} ms/step, rank 0 CPU ${cost.cpuMs.toFixed(0)} ms/step${comm} (steps ${WARMUP_STEPS + 1}-${steps}, tiny demo recipe, batch det/grounding ${batchOf.detection} pairs ${batchOf.imageText} global, 1 thread per process)`);
  }
  await run(1, 'grads', dataDir, path.join(tmp, 'grads1.json'));
  await run(2, 'grads', dataDir, path.join(tmp, 'grads2.json'));
  const diff = gradMaxDiff(path.join(tmp, 'grads1.json'), path.join(tmp, 'grads2.json'));
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`ratio nproc2_vs_1=${(ips[1]! / ips[0]!).toFixed(3)} grad_maxdiff=${diff.toExponential(2)}`);
}

if (a.child) await child(a.child, a.data!, a.out!);
else await main();
