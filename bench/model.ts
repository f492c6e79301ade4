// Image-encoder speed: forward and forward+backward time per image for model presets at given resolutions.
// The backward pass takes gradients of a stand-in loss (similarity logits vs random concepts + ltrb + centerness)
// with respect to every trainable image parameter, as a training step would.
//   npx tsx bench/model.ts [--cases tiny@128x128x8,r50@320x320x1,r50@800x1333x1] [--iters N] [--no-backward]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { resolveModelConfig } from '../src/config/model.ts';
import { ParamStore } from '../src/model/params.ts';
import { ImageEncoder } from '../src/model/imageEncoder.ts';
import { Rng } from '../src/ops/rng.ts';

interface Case { preset: string; h: number; w: number; batch: number }

function parseArgs(argv: string[]): { cases: Case[]; iters: number; backward: boolean } {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const spec = get('--cases') ?? 'tiny@128x128x8,r50@320x320x1,r50@800x1333x1';
  const cases = spec.split(',').map((c) => {
    const m = /^([\w-]+)@(\d+)x(\d+)x(\d+)$/.exec(c.trim());
    if (!m) throw new Error(`bad case '${c}' (expected preset@HxWxB)`);
    return { preset: m[1]!, h: Number(m[2]), w: Number(m[3]), batch: Number(m[4]) };
  });
  return { cases, iters: Number(get('--iters') ?? 3), backward: !argv.includes('--no-backward') };
}

/** Times fn; a warm-up run first (kernel set-up, weight upload) unless `warmup` is false (multi-second cases). */
async function timeIt(iters: number, fn: () => Promise<void>, warmup = true): Promise<number[]> {
  if (warmup) await fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const { cases, iters, backward } = parseArgs(process.argv.slice(2));
  const backend = await initBackend();
  console.log(`backend ${backend}, ${iters} timed iterations after 1 warm-up, median reported (inputs over 0.5 MPixel: 1 run, no warm-up)`);
  console.log('| preset | input | batch | forward ms/image | fwd+bwd ms/image | GMACs/image |');
  console.log('|---|---|---|---|---|---|');
  for (const c of cases) {
    const cfg = resolveModelConfig(c.preset);
    const store = ParamStore.create();
    const enc = new ImageEncoder(store, cfg, new Rng(1));
    const m = enc.macs(c.h, c.w);
    const x = tf.randomNormal([c.batch, c.h, c.w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const concepts = tf.randomNormal([32, cfg.head.embedDim], 0, 1, 'float32', 2) as tf.Tensor2D;
    const big = c.h * c.w > 500_000; // e.g. 800x1333: one run, no warm-up (it would take minutes)
    const its = big ? 1 : iters;
    const fwd = await timeIt(its, async () => {
      const out = tf.tidy(() => {
        const e = enc.encodeImage(x, false);
        return [enc.similarityLogits(e.regionEmbeddings, concepts), e.boxes, e.centerness];
      });
      await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
    }, !big);
    let bwd = 'n/a';
    if (backward) {
      try {
        const vars = store.entries({ trainableOnly: true }).map(([, v]) => v);
        const t = await timeIt(its, async () => {
          const { value, grads } = tf.variableGrads(() => {
            const e = enc.encodeImage(x, true);
            const logits = enc.similarityLogits(e.regionEmbeddings, concepts);
            return tf.addN([tf.mean(tf.sigmoid(logits)), tf.mean(tf.log1p(e.ltrb)), tf.mean(e.centerness)]) as tf.Scalar;
          }, vars);
          await value.data();
          await Promise.all(Object.values(grads).map((g) => g.data()));
          value.dispose();
          tf.dispose(Object.values(grads));
        }, !big);
        bwd = (median(t) / c.batch).toFixed(1);
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0]!;
        // An abort kills the wasm module: later cases in this process are not valid (big cases go last).
        bwd = /Aborted/.test(msg) ? 'n/a (wasm heap, 4 GB max, exhausted)' : `n/a (${msg})`;
      }
    }
    const gmacs = (m.backbone + m.neck + m.head) / 1e9;
    console.log(`| ${c.preset} | ${c.h}x${c.w} | ${c.batch} | ${(median(fwd) / c.batch).toFixed(1)} | ${bwd} | ${gmacs.toFixed(2)} |`);
    x.dispose();
    concepts.dispose();
    store.dispose();
  }
  console.log(`tensors left: ${tf.memory().numTensors}`);
}

await main();
