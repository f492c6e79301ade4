// `npm run bench:engine`: the native torch engine against wasm on the tiny demo recipe, same batches, one process.
//   npx tsx bench/engine.ts [--data data/ovd-mnist] [--steps 20] [--warmup 3]
// With --data (or when data/ovd-mnist exists) the batches come from the demo's mixed loader (detection,
// grounding and pairs steps, seed 0); otherwise a synthetic detection batch at the demo's 128 px, batch 4.
// Ends with `ratio torch_vs_wasm train_step=X inference=Y` (torch on every core) and the same at 1 thread.
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { initBackend } from '../src/backend/index.ts';
import { setTorchThreads, torchInfo } from '../src/backend/torch/index.ts';
import { createBench } from './train_step.ts';

const argv = process.argv.slice(2);
const get = (f: string): string | undefined => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const steps = Number(get('--steps') ?? 20);
const warmup = Number(get('--warmup') ?? 3);
const data = get('--data') ?? (existsSync('data/ovd-mnist/train') ? 'data/ovd-mnist' : undefined);
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

async function measure(label: string): Promise<{ train: number; infer: number }> {
  const bench = await createBench({ preset: 'tiny', size: 128, batch: 4, concepts: 20, reps: steps, warmup, serve: false, memory: 0,
    profile: false, plainNames: false, data } as Parameters<typeof createBench>[0]);
  for (let i = 0; i < warmup; i++) { await bench.trainStep(); bench.infer(); }
  const train: number[] = [];
  const infer: number[] = [];
  for (let i = 0; i < steps; i++) { train.push(await bench.trainStep()); infer.push(bench.infer()); }
  await bench.dispose();
  const r = { train: median(train), infer: median(infer) };
  console.log(`${label}: train step ${r.train.toFixed(0)} ms, inference ${r.infer.toFixed(1)} ms (median of ${steps}), tensors ${tf.memory().numTensors}`);
  return r;
}

console.log(`tiny demo recipe, ${data ? `batches from ${data} (mixed loader, seed 0)` : 'synthetic detection batch 4 x 128 px'}, ${os.availableParallelism()} cores`);
await initBackend('wasm');
const wasm = await measure('wasm (1 thread)');
await initBackend('torch');
const info = torchInfo()!;
console.log(`torch: libtorch ${info.torch}, ${info.blas.split(' ').slice(0, 2).join(' ')}, oneDNN ${info.mkldnn}`);
const cores = os.availableParallelism();
setTorchThreads(cores);
const all = await measure(`torch (${cores} threads)`);
setTorchThreads(1);
const one = await measure('torch (1 thread)');
setTorchThreads(cores);
const ratio = (r: { train: number; infer: number }, extra = ''): string =>
  `ratio torch_vs_wasm train_step=${(wasm.train / r.train).toFixed(2)} inference=${(wasm.infer / r.infer).toFixed(2)}${extra}`;
console.log(ratio(one, ' threads=1'));
console.log(ratio(all));
