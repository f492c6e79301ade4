// Our side of `npm run bench:compare`: one DetCLIPv2 training step (forward, losses, backward, AdamW) and one
// inference pass with a cached vocabulary, for a model preset at a given size.
//   npx tsx bench/train_step.ts [--preset r50] [--size 320] [--batch 2] [--concepts 80] [--reps 3]
//     --serve            read 'train' / 'infer' / 'quit' lines on stdin, answer one JSON line each (compare.ts)
//     --memory N         N train steps; RSS, wasm heap and tensor count every N/10 steps (growth check)
//     --profile          per-kernel self time (ms) per train step / inference (mean of --reps runs), after the warm-up
//     --data DIR         real batches from an OVD-MNIST dir through the training loader (tiny demo recipe)
//     --plain-names      concepts are bare COCO names instead of enriched "name, definition" texts
//     --backend B        torch | wasm (default: torch when the native module loads); --threads N (torch)
import * as tf from '@tensorflow/tfjs';
import readline from 'node:readline';
import { initBackend } from '../src/backend/index.ts';
import { torchInfo } from '../src/backend/torch/index.ts';
import { buildDetClip, type DetClip } from '../src/model/detclip.ts';
import { resolveRecipe } from '../src/train/recipe.ts';
import { computeGradients, lossConfigFrom } from '../src/train/trainStep.ts';
import { AdamW } from '../src/train/adamw.ts';
import { DetectorCore } from '../src/infer/detectorCore.ts';
import type { Preprocessed } from '../src/infer/letterbox.ts';
import type { Batch } from '../src/data/types.ts';
import { enrichCategory } from '../src/data/wordnetEnrich.ts';
import { createMixedLoader } from '../src/data/mixedLoader.ts';
import { dataConfigForTraining } from '../src/train/trainDetClip.ts';
import { ovdMnistDataConfig } from '../src/data/config.ts';
import { Rng } from '../src/ops/rng.ts';

export const COCO_NAMES = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis',
  'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket',
  'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli',
  'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv',
  'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book',
  'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush'];

interface Args {
  preset: string; size: number; batch: number; concepts: number; reps: number; warmup: number;
  serve: boolean; memory: number; profile: boolean; data?: string; plainNames: boolean; backend?: string; threads?: number;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    preset: get('--preset') ?? 'r50', size: Number(get('--size') ?? 320), batch: Number(get('--batch') ?? 2),
    concepts: Number(get('--concepts') ?? 80), reps: Number(get('--reps') ?? 3), warmup: Number(get('--warmup') ?? 1),
    serve: argv.includes('--serve'), memory: Number(get('--memory') ?? 0), profile: argv.includes('--profile'),
    data: get('--data'), plainNames: argv.includes('--plain-names'), backend: get('--backend'),
    threads: get('--threads') === undefined ? undefined : Number(get('--threads')),
  };
}

/** Seeded normalised pixels and the reference script's boxes (scaled to the size), labels within the concepts. */
export function syntheticBatch(a: Pick<Args, 'batch' | 'size'>, concepts: string[]): Batch {
  const rng = new Rng(7);
  const pixels = new Float32Array(a.batch * a.size * a.size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.normal();
  const s = a.size / 320;
  const perImage = [[[10, 20, 120, 200], [150, 40, 300, 180]], [[30, 30, 90, 110]]];
  const boxes: Float32Array[] = [];
  const boxLabels: Int32Array[] = [];
  for (let b = 0; b < a.batch; b++) {
    const bx = perImage[b % 2]!;
    boxes.push(Float32Array.from(bx.flat().map((v) => v * s)));
    boxLabels.push(Int32Array.from(bx.map((_, j) => (3 + 14 * j + 2 * b) % concepts.length)));
  }
  return {
    kind: 'detection', height: a.size, width: a.size, pixels, imageSizes: boxes.map(() => [a.size, a.size]), boxes, boxLabels,
    concepts, imageConcepts: boxes.map(() => concepts.map((_, i) => i)), positiveConcepts: boxLabels.map((l) => [...l]),
    captions: boxes.map(() => undefined), records: boxes.map((_, i) => `synthetic#${i}`),
  };
}

/** The first `n` COCO names (then "concept i") and their texts: enriched "name, definition" unless plainNames. */
export function benchConcepts(n: number, plainNames: boolean): { names: string[]; texts: string[] } {
  const names = COCO_NAMES.slice(0, n);
  while (names.length < n) names.push(`concept ${names.length}`);
  return { names, texts: plainNames ? names : names.map((name) => enrichCategory({ name })) };
}

/** The timed inference images: the synthetic batch's pixels, one Preprocessed each (no padding, no resizing). */
export function benchImages(batch: Batch, size: number): Preprocessed[] {
  const n = size * size * 3;
  return batch.boxes.map((_, b) => ({ pixels: batch.pixels.slice(b * n, (b + 1) * n), height: size, width: size, validH: size, validW: size, srcH: size, srcW: size }));
}

export interface Bench {
  model: DetClip;
  trainStep(): Promise<number>;  // ms
  infer(): number;               // ms
  nextBatchInfo(): string;
  dispose(): Promise<void>;
}

export async function createBench(a: Args): Promise<Bench> {
  const recipe = resolveRecipe(a.preset);
  const model = buildDetClip(recipe.model, 0);
  const t = recipe.train.train;
  const optimizer = new AdamW(model.store, { lr: t.lr, betas: t.betas, eps: t.eps, weightDecay: t.weightDecay, textLrMult: t.textLrMult });
  const lossCfg = lossConfigFrom(recipe.train);
  const { names, texts } = benchConcepts(a.concepts, a.plainNames);
  let batch = syntheticBatch(a, texts);
  let loader: Awaited<ReturnType<typeof createMixedLoader>> | null = null;
  if (a.data) {
    loader = await createMixedLoader(dataConfigForTraining(ovdMnistDataConfig(a.data), recipe.train), { seed: 0, workers: 0 });
  }
  const nextBatch = async (): Promise<Batch> => (loader ? (await loader.next()) as Batch : batch);
  const core = new DetectorCore(model, { resize: { mode: 'square', size: a.size }, padDivisor: 32, enrich: true });
  core.setConcepts(names, texts); // the cached vocabulary: not part of the timed inference
  const images = benchImages(batch, a.size);
  return {
    model,
    async trainStep() {
      batch = await nextBatch();
      const t0 = performance.now();
      const { grads } = computeGradients(model, batch, lossCfg);
      optimizer.applyGradients(grads);
      for (const g of grads.values()) g.dispose();
      return performance.now() - t0;
    },
    infer() {
      const t0 = performance.now();
      core.detectPreprocessed(images);
      return performance.now() - t0;
    },
    nextBatchInfo: () => `${batch.kind} ${batch.imageSizes.length}x${batch.height}x${batch.width}, ${batch.concepts.length} concepts`,
    async dispose() {
      optimizer.dispose();
      core.dispose(); // disposes the model too
      await loader?.close();
    },
  };
}

/** Throws if a backend other than `name` (and wasm, torch's fallback engine) was created, e.g. a silent cpu fallback. */
export function assertBackendOnly(name: string): void {
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  const others = Object.keys(registry).filter((k) => k !== name && k !== 'wasm');
  if (tf.getBackend() !== name || others.length) throw new Error(`expected ${name} only, backends in use: ${[tf.getBackend(), ...others]}`);
}

/** Wraps every kernel of the current backend with a timer; self time = own time minus nested kernels (composed kernels run others). */
export function installKernelTimer(): { reset(): void; table(top?: number, runs?: number): string; totalMs(): number } {
  const stats = new Map<string, { ms: number; calls: number }>();
  const stack: number[] = [];
  const backend = tf.getBackend();
  for (const k of tf.getKernelsForBackend(backend)) {
    const inner = k.kernelFunc;
    const name = k.kernelName;
    tf.unregisterKernel(name, backend);
    tf.registerKernel({
      ...k, kernelFunc: (args) => {
        stack.push(0);
        const t0 = performance.now();
        try {
          return inner(args);
        } finally {
          const dt = performance.now() - t0;
          const nested = stack.pop()!;
          if (stack.length) stack[stack.length - 1]! += dt;
          const s = stats.get(name) ?? { ms: 0, calls: 0 };
          s.ms += dt - nested;
          s.calls += 1;
          stats.set(name, s);
        }
      },
    });
  }
  const totalMs = (): number => [...stats.values()].reduce((a, s) => a + s.ms, 0);
  return {
    reset: () => stats.clear(),
    totalMs,
    table(top = 25, runs = 1) {
      const total = totalMs();
      const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
      return ['| kernel | self ms | % | calls |', '|---|---|---|---|',
        ...rows.map(([n, s]) => `| ${n} | ${(s.ms / runs).toFixed(1)} | ${(100 * s.ms / total).toFixed(1)} | ${(s.calls / runs).toFixed(0)} |`)].join('\n');
    },
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;
const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

async function serve(bench: Bench): Promise<void> {
  console.log(JSON.stringify({ ready: true, params: bench.model.store.count(), backend: tf.getBackend(), threads: tf.getBackend() === 'torch' ? torchInfo()?.threads : 1 }));
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = line.trim();
    if (cmd === 'quit') break;
    const c0 = process.cpuUsage();
    const cpuMs = (): number => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1000; };
    if (cmd === 'train') {
      const ms = await bench.trainStep();
      console.log(JSON.stringify({ train_step_ms: ms, cpu_ms: cpuMs(), peak_rss_mib: peakRssMiB(), tensors: tf.memory().numTensors }));
    } else if (cmd === 'infer') {
      const ms = bench.infer();
      console.log(JSON.stringify({ inference_ms: ms, cpu_ms: cpuMs(), peak_rss_mib: peakRssMiB(), tensors: tf.memory().numTensors }));
    }
    else console.log(JSON.stringify({ error: `unknown command '${cmd}'` }));
  }
  rl.close();
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const backend = await initBackend(a.backend, { threads: a.threads });
  const bench = await createBench(a);
  const log = (s: string): void => { if (!a.serve) console.log(s); };
  const threads = backend === 'torch' ? ` ${torchInfo()?.threads} threads` : '';
  log(`${a.preset} ${a.size}x${a.size} batch ${a.batch}, ${a.concepts} concepts, ${(bench.model.store.count() / 1e6).toFixed(1)}M parameters, ${backend}${threads}`);
  for (let i = 0; i < a.warmup; i++) { await bench.trainStep(); bench.infer(); }
  assertBackendOnly(backend);
  log(`batch: ${bench.nextBatchInfo()}; after warm-up: rss ${rssMiB().toFixed(0)} MiB, peak ${peakRssMiB().toFixed(0)} MiB, tensors ${tf.memory().numTensors}`);
  if (a.serve) {
    await serve(bench);
  } else if (a.profile) {
    const timer = installKernelTimer();
    for (const [what, run] of [['train step', () => bench.trainStep()], ['inference', async () => bench.infer()]] as const) {
      timer.reset();
      let ms = 0;
      for (let i = 0; i < a.reps; i++) ms += await run();
      console.log(`\n${what} (${a.reps} runs, per run): wall ${(ms / a.reps).toFixed(0)} ms, kernels ${(timer.totalMs() / a.reps).toFixed(0)} ms\n${timer.table(25, a.reps)}`);
    }
  } else if (a.memory > 0) {
    const every = Math.max(1, Math.round(a.memory / 10));
    const t: number[] = [];
    for (let i = 1; i <= a.memory; i++) {
      t.push(await bench.trainStep());
      if (i % every === 0 || i === a.memory) {
        const m = tf.memory() as tf.MemoryInfo & { numNativeTensors?: number; nativeBytes?: number };
        const native = m.numNativeTensors === undefined ? '' : `, native tensors ${m.numNativeTensors}, native MiB ${(m.nativeBytes! / 2 ** 20).toFixed(0)}`;
        console.log(`step ${i}: ${median(t.slice(-every)).toFixed(0)} ms, rss ${rssMiB().toFixed(0)} MiB, peak ${peakRssMiB().toFixed(0)} MiB, tensors ${m.numTensors}, tensor MiB ${(m.numBytes / 2 ** 20).toFixed(0)}${native}`);
      }
    }
  } else {
    const train: number[] = [];
    const infer: number[] = [];
    for (let i = 0; i < a.reps; i++) { train.push(await bench.trainStep()); infer.push(bench.infer()); }
    console.log(`train step ms: ${train.map((x) => x.toFixed(0)).join(' ')} (median ${median(train).toFixed(0)})`);
    console.log(`inference ms: ${infer.map((x) => x.toFixed(0)).join(' ')} (median ${median(infer).toFixed(0)})`);
    console.log(`peak rss ${peakRssMiB().toFixed(0)} MiB, tensors ${tf.memory().numTensors}`);
  }
  await bench.dispose();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
