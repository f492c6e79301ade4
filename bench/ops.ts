// Op micro-benchmarks on the wasm backend (single-threaded SIMD):
//  1. conv2d forward + backward (dx via the polyphase Conv2DBackpropInput, dW via the new
//     Conv2DBackpropFilter) in GFLOP/s, with the replaced built-in Conv2DBackpropInput for comparison;
//  2. DCNv2 (src/ops/deformConv2d.ts) forward + backward time as a ratio to the plain conv of the same shape;
//  3. tf.gather before / after the GatherV2 replacement.
//   npx tsx bench/ops.ts [--reps N]
// Times are best-of-N CPU milliseconds after a warm-up of at least 1 s per case (V8 tiers the wasm code up).
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { originalWasmKernel } from '../src/backend/wasmKernels.ts';
import { deformConv2d } from '../src/ops/deformConv2d.ts';

const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg >= 0 ? Number(process.argv[repsArg + 1]) : 7;

/**
 * Best-of-N CPU time (ms, user + system of this process) of fn. The wasm backend is single-threaded and
 * synchronous, so CPU time is the op's own time; unlike wall time it ignores the other jobs sharing the
 * machine. Warm-up first: at least 3 calls and 1 s, so V8 has tiered the wasm code up.
 */
function timeMs(fn: () => void): number {
  const t0 = performance.now();
  let n = 0;
  while (n < 3 || performance.now() - t0 < 1000) {
    fn();
    n++;
  }
  let best = Infinity;
  for (let i = 0; i < REPS; i++) {
    const c = process.cpuUsage();
    fn();
    const d = process.cpuUsage(c);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return best;
}

const run = (f: () => tf.Tensor | tf.Tensor[]) => () => tf.dispose(f());
const fmt = (v: number, d = 1) => v.toFixed(d).padStart(7);

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  k: number;
  cout: number;
  s: number;
}
const CONVS: ConvCase[] = [
  { name: 'head 3x3, 64x64x64 -> 64', x: [2, 64, 64, 64], k: 3, cout: 64, s: 1 },
  { name: 'head 3x3, 32x32x128 -> 128', x: [2, 32, 32, 128], k: 3, cout: 128, s: 1 },
  { name: 'down 3x3/2, 64x64x64 -> 128', x: [2, 64, 64, 64], k: 3, cout: 128, s: 2 },
  { name: 'lateral 1x1, 64x64x256 -> 64', x: [2, 64, 64, 256], k: 1, cout: 64, s: 1 },
  { name: 'stem 7x7/2, 256x256x3 -> 64', x: [1, 256, 256, 3], k: 7, cout: 64, s: 2 },
];

function convBench(c: ConvCase): void {
  tf.tidy(() => {
    const p = Math.floor(c.k / 2);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [p, p], [p, p], [0, 0]];
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const w = tf.randomNormal([c.k, c.k, c.x[3], c.cout], 0, 0.05) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.s, pad);
    const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
    const flops = 2 * y.size * c.k * c.k * c.x[3]; // one pass; forward + backward is 3 passes
    const fwd = timeMs(run(() => tf.conv2d(x, w, c.s, pad)));
    const dx = timeMs(run(() => tf.conv2dTranspose(dy, w, c.x, c.s, pad)));
    const attrs = { strides: c.s, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    const dw = timeMs(run(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor));
    const both = timeMs(run(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, pad), dy)))([x, w])));
    const orig = originalWasmKernel('Conv2DBackpropInput')!;
    const backend = tf.backend();
    const dxOld = timeMs(() => {
      const info = orig.kernelFunc({ inputs: { dy, filter: w }, backend, attrs: { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
      backend.disposeData(info.dataId);
    });
    const g = (ms: number, passes = 1) => fmt((passes * flops) / ms / 1e6);
    console.log(
      `| ${c.name.padEnd(30)} | ${fmt(fwd)} | ${fmt(dx)} | ${fmt(dw)} | ${fmt(both)} | ${g(both, 3)} | ${g(fwd)} | ${fmt(dxOld)} |`,
    );
  });
}

function dcnBench(hw: number): void {
  tf.tidy(() => {
    const x = tf.randomNormal([2, hw, hw, 64]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 64, 64], 0, 0.05) as tf.Tensor4D;
    const b = tf.zeros([64]) as tf.Tensor1D;
    const off = tf.randomNormal([2, hw, hw, 18], 0, 2) as tf.Tensor4D;
    const m = tf.sigmoid(tf.randomNormal([2, hw, hw, 9])) as tf.Tensor4D;
    const r = tf.randomNormal([2, hw, hw, 64]);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
    const convF = timeMs(run(() => tf.conv2d(x, w, 1, pad)));
    const convFB = timeMs(run(() => tf.grads((a: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, ww as tf.Tensor4D, 1, pad), r)))([x, w])));
    const dcnF = timeMs(run(() => deformConv2d(x, off, m, w, b, { padding: 1 })));
    const dcnFB = timeMs(
      run(() =>
        tf.grads((a: tf.Tensor, o: tf.Tensor, mm: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(deformConv2d(a as tf.Tensor4D, o as tf.Tensor4D, mm as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D, { padding: 1 }), r)),
        )([x, off, m, w, b]),
      ),
    );
    console.log(
      `| 2x${hw}x${hw}x64 -> 64, 3x3 | ${fmt(convF)} | ${fmt(dcnF)} | ${fmt(dcnF / convF, 2)}x | ${fmt(convFB)} | ${fmt(dcnFB)} | ${fmt(dcnFB / convFB, 2)}x |`,
    );
  });
}

function gatherBench(): void {
  tf.tidy(() => {
    const x = tf.randomNormal([8192, 64]);
    const idx = tf.randomUniform([73728], 0, 8192, 'int32');
    const fast = timeMs(run(() => tf.gather(x, idx)));
    const orig = originalWasmKernel('GatherV2')!;
    const backend = tf.backend();
    const slow = timeMs(() => {
      const info = orig.kernelFunc({ inputs: { x, indices: idx }, backend, attrs: { axis: 0, batchDims: 0 } }) as tf.TensorInfo;
      backend.disposeData(info.dataId);
    });
    console.log(`| gather 73728 rows of 64 from [8192, 64] | ${fmt(slow)} | ${fmt(fast)} |`);
  });
}

await initBackend('wasm');
console.log(`# bench/ops.ts: backend ${tf.getBackend()}, node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}, best of ${REPS} (CPU ms)`);
console.log('\n## conv2d forward + backward (ms; GFLOP/s counts 3 passes for fwd+bwd)\n');
console.log('| shape (batch 2 unless stem: batch 1) | fwd | dx | dW | fwd+bwd | fwd+bwd GFLOP/s | fwd GFLOP/s | built-in dx (replaced) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const c of CONVS) convBench(c);
console.log('\n## DCNv2 vs plain conv of the same shape (ms)\n');
console.log('| shape | conv fwd | DCN fwd | ratio | conv fwd+bwd | DCN fwd+bwd | ratio |');
console.log('|---|---|---|---|---|---|---|');
for (const hw of [32, 64]) dcnBench(hw);
console.log('\n## gather (ms)\n');
console.log('| case | built-in GatherV2 | replacement |');
console.log('|---|---|---|');
gatherBench();
console.log(`\nload after: ${os.loadavg()[0]!.toFixed(1)}`);
