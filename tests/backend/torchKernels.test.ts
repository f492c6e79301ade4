// The native 'torch' backend against wasm: every native kernel, forward and gradient (tf.grads), to 1e-4
// relative; every native kernel reached (checked with tf.profile); no JS or native tensor left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupWasm, assertClose } from '../helpers/tf.ts';
import { initBackend } from '../../src/backend/index.ts';
import { NATIVE_KERNELS, torchAddon, torchBackendUnavailableReason, torchFallbackCalls } from '../../src/backend/torch/index.ts';
import { TORCH_CASES, type Case, type Input } from './torchCases.ts';

await setupWasm();
const ok = await initBackend('torch').then(() => true, () => false);
const skip = ok ? false : `native engine not available: ${torchBackendUnavailableReason()}`;

function makeInputs(inputs: Input[], seed: number): tf.Tensor[] {
  let s = seed;
  const next = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  return inputs.map((i) => {
    const n = i.s.reduce((a, b) => a * b, 1);
    if (i.v) return tf.tensor(i.v, i.s, i.d ?? 'float32');
    if (i.d === 'bool') return tf.tensor(Array.from({ length: n }, () => next() < 0.5), i.s, 'bool');
    const lo = i.lo ?? -1, hi = i.hi ?? 1;
    if (i.d === 'int32') return tf.tensor(Array.from({ length: n }, () => Math.floor(lo + (hi - lo + 1) * next())), i.s, 'int32');
    return tf.tensor(Float32Array.from({ length: n }, () => lo + (hi - lo) * next()), i.s, 'float32');
  });
}

/** Kernels whose wasm version is wrong, checked against hand-written loops below instead. */
const HAND_CHECKED = ['MaxPoolGrad'];

interface Result { outs: { v: number[]; s: number[]; d: string }[]; grads: number[][]; kernels: string[] }

async function run(c: Case, backend: string, seed: number): Promise<Result> {
  await tf.setBackend(backend);
  const xs = makeInputs(c.inputs, seed);
  const asList = (y: tf.Tensor | tf.Tensor[]) => (Array.isArray(y) ? y : [y]);
  let outs: tf.Tensor[] = [];
  let grads: tf.Tensor[] = [];
  // tf.profile hides a kernel's own error behind a TypeError: on failure, rerun plainly to surface it.
  const profile = await tf.profile(() => {
    outs = asList(tf.tidy(() => c.f(...xs)));
    const floatIdx = xs.map((x, i) => (x.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
    const wantGrad = c.grad ?? (floatIdx.length === xs.length && outs.every((o) => o.dtype === 'float32'));
    if (wantGrad) {
      // loss = Σ_k Σ out_k · r_k with fixed random r_k, so every output element gets its own gradient weight
      const weights = outs.map((o, k) => makeInputs([{ s: o.shape, lo: -1, hi: 1 }], 99 + k)[0]!);
      grads = tf.grads((...fs: tf.Tensor[]) => {
        const all = xs.slice();
        floatIdx.forEach((xi, j) => { all[xi] = fs[j]!; });
        return tf.addN(asList(c.f(...all)).map((o, k) => tf.sum(tf.mul(o, weights[k]!))));
      })(floatIdx.map((i) => xs[i]!));
      tf.dispose(weights);
    }
    return [];
  }).catch((e: unknown) => {
    tf.tidy(() => { c.f(...xs); });
    throw e;
  });
  const res: Result = {
    // bool compared as truth values: wasm's Cast to bool keeps the low byte (-2 -> 254), torch stores 1
    outs: await Promise.all(outs.map(async (o) => {
      const v = Array.from(await o.data() as Float32Array);
      return { v: o.dtype === 'bool' ? v.map((x) => (x ? 1 : 0)) : v, s: o.shape, d: o.dtype };
    })),
    grads: await Promise.all(grads.map(async (g) => Array.from(await g.data() as Float32Array))),
    kernels: profile.kernelNames,
  };
  tf.dispose([...xs, ...outs, ...grads]);
  return res;
}

test('torch kernels match wasm, forward and gradient', { skip }, async () => {
  const reached = new Set<string>();
  const addon = torchAddon()!;
  for (const [ci, c] of TORCH_CASES.entries()) {
    const ref = await run(c, 'wasm', 1000 + ci);
    const before = { js: tf.memory().numTensors, native: addon.count() };
    const got = await run(c, 'torch', 1000 + ci);
    assert.equal(tf.memory().numTensors, before.js, `${c.name}: JS tensors leaked`);
    assert.equal(addon.count(), before.native, `${c.name}: native tensors leaked`);
    assert.equal(got.outs.length, ref.outs.length, `${c.name}: number of outputs`);
    got.outs.forEach((o, k) => {
      assert.deepEqual(o.s, ref.outs[k]!.s, `${c.name}[${k}]: shape`);
      assert.equal(o.d, ref.outs[k]!.d, `${c.name}[${k}]: dtype`);
      assertClose(o.v, ref.outs[k]!.v, { rtol: 1e-4, atol: 1e-5, what: `${c.name}[${k}]` });
    });
    assert.equal(got.grads.length, ref.grads.length, `${c.name}: number of gradients`);
    got.grads.forEach((g, k) => assertClose(g, ref.grads[k]!, { rtol: 1e-4, atol: 1e-4, what: `${c.name} d/dx${k}` }));
    for (const k of c.kernels) assert.ok(got.kernels.includes(k), `${c.name}: kernel ${k} was not reached (ran ${got.kernels.join(', ')})`);
    for (const k of got.kernels) reached.add(k);
  }
  const missing = [...NATIVE_KERNELS].filter((k) => !reached.has(k) && !HAND_CHECKED.includes(k));
  assert.deepEqual(missing, [], `native kernels without a conformance case: ${missing.join(', ')}`);
  await setupWasm();
});

test('torch backend: kernels without a native version run through wasm, errors are JS errors', { skip }, async () => {
  await tf.setBackend('torch');
  torchFallbackCalls(true);
  const x = tf.tensor1d([3, 1, 4, 1, 5, 9, 2, 6]);
  const { values, indices } = tf.topk(x, 3);
  assert.deepEqual(Array.from(await values.data()), [9, 6, 5]);
  assert.deepEqual(Array.from(await indices.data()), [5, 7, 4]);
  assert.equal(torchFallbackCalls().TopK, 1);
  assert.throws(() => tf.tidy(() => tf.gather(x, tf.tensor1d([0, 99], 'int32')).dataSync()), /index|range|bounds/i);
  tf.dispose([x, values, indices]);
  await tf.setBackend('wasm');
});

test('tensors move between wasm and torch when the backend switches', { skip }, async () => {
  await tf.setBackend('wasm');
  const a = tf.tensor2d([[1, 2], [3, 4]]);
  const flags = tf.tensor1d([true, false], 'bool');
  await tf.setBackend('torch');
  const b = tf.matMul(a, a); // a moves to torch
  assert.deepEqual(Array.from(await b.data()), [7, 10, 15, 22]);
  assert.deepEqual(Array.from(await tf.logicalNot(flags).data()), [0, 1]);
  await tf.setBackend('wasm');
  assert.deepEqual(Array.from(await tf.add(b, 1).data()), [8, 11, 16, 23]); // b moves back
  tf.dispose([a, b, flags]);
});

test('torch MaxPool and MaxPoolGrad (3x3 s2 SAME, overlapping windows) equal a hand-written loop', { skip }, async () => {
  await tf.setBackend('torch');
  const [N, H, C, O] = [2, 15, 3, 8];
  const xv = Float32Array.from({ length: N * H * H * C }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
  const dyv = Float32Array.from({ length: N * O * O * C }, (_, i) => Math.cos(i * 7.1));
  const at = (n: number, y: number, x: number, c: number, w: number) => ((n * w + y) * w + x) * C + c;
  const pooled = new Float32Array(N * O * O * C);
  const dx = new Float32Array(N * H * H * C); // each window sends its dy to its first max; TF pads 1 on each side here
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let oy = 0; oy < O; oy++) for (let ox = 0; ox < O; ox++) {
    let best = -Infinity, arg = -1;
    for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      const y = oy * 2 - 1 + ky, x = ox * 2 - 1 + kx;
      if (y >= 0 && x >= 0 && y < H && x < H && xv[at(n, y, x, c, H)]! > best) { best = xv[at(n, y, x, c, H)]!; arg = at(n, y, x, c, H); }
    }
    pooled[at(n, oy, ox, c, O)] = best;
    dx[arg] += dyv[at(n, oy, ox, c, O)]!;
  }
  const x = tf.tensor4d(xv, [N, H, H, C]);
  const dy = tf.tensor4d(dyv, [N, O, O, C]);
  const y = tf.maxPool(x, 3, 2, 'same');
  let g: tf.Tensor = y;
  const { kernelNames } = await tf.profile(() => {
    g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 'same'), dy)))(x);
    return g;
  });
  assert.ok(kernelNames.includes('MaxPoolGrad'), 'MaxPoolGrad reached');
  assertClose(await y.data(), pooled, { rtol: 1e-6, atol: 1e-6, what: 'MaxPool' });
  assertClose(await g.data(), dx, { rtol: 1e-6, atol: 1e-6, what: 'MaxPoolGrad' });
  tf.dispose([x, dy, y, g]);
  await tf.setBackend('wasm');
});
