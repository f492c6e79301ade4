// Experimental 'torch' backend (libtorch addon) against wasm: every registered kernel, a gradient, leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, assertClose } from '../helpers/tf.ts';
import { registerTorchBackend, torchBackendUnavailableReason, torchAddon } from '../../src/backend/torch/index.ts';

const ok = registerTorchBackend();
const why = torchBackendUnavailableReason();

let seed = 12345;
const rand = (n: number, lo = -1, hi = 1): Float32Array => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; a[i] = lo + (hi - lo) * (seed / 2147483648); }
  return a;
};
const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);

/** Runs f on wasm, then on torch, with the same inputs; returns both outputs' values and shapes. */
async function both(inputs: { v: Float32Array | Int32Array; s: number[]; d?: 'float32' | 'int32' }[], f: (...t: tf.Tensor[]) => tf.Tensor) {
  const run = async (name: string) => {
    await (name === 'wasm' ? setupBackend() : tf.setBackend('torch'));
    const ts = inputs.map((i) => tf.tensor(i.v, i.s, i.d ?? 'float32'));
    const y = f(...ts);
    const out = { v: Array.from(await y.data() as Float32Array), s: y.shape, d: y.dtype };
    tf.dispose([...ts, y]);
    return out;
  };
  const ref = await run('wasm');
  const got = await run('torch');
  return { ref, got };
}

async function check(what: string, inputs: { v: Float32Array | Int32Array; s: number[]; d?: 'float32' | 'int32' }[], f: (...t: tf.Tensor[]) => tf.Tensor) {
  const { ref, got } = await both(inputs, f);
  assert.deepEqual(got.s, ref.s, `${what}: shape`);
  assert.equal(got.d, ref.d, `${what}: dtype`);
  assertClose(got.v, ref.v, { rtol: 1e-4, atol: 1e-5, what });
}

const f = (s: number[], lo = -1, hi = 1) => ({ v: rand(size(s), lo, hi), s });

test('torch backend kernels match wasm', { skip: ok ? false : `native addon not built: ${why}` }, async () => {
  for (const [name, op] of [['Add', tf.add], ['Sub', tf.sub], ['Multiply', tf.mul], ['RealDiv', tf.div]] as const) {
    await check(`${name} same shape`, [f([3, 4]), f([3, 4], 0.5, 2)], (a, b) => op(a!, b!));
    await check(`${name} broadcast`, [f([2, 1, 4]), f([3, 1], 0.5, 2)], (a, b) => op(a!, b!));
  }
  await check('Add int32', [{ v: Int32Array.from([1, 2, 3]), s: [3], d: 'int32' }, { v: Int32Array.from([4, 5, 6]), s: [3], d: 'int32' }], (a, b) => tf.add(a!, b!));
  await check('Relu', [f([5, 7])], (x) => tf.relu(x!));
  await check('Exp', [f([5, 7])], (x) => tf.exp(x!));
  await check('Log', [f([5, 7], 0.1, 3)], (x) => tf.log(x!));
  await check('Sigmoid', [f([5, 7], -4, 4)], (x) => tf.sigmoid(x!));
  await check('MatMul', [f([6, 5]), f([5, 3])], (a, b) => tf.matMul(a!, b!));
  await check('MatMul tA tB', [f([5, 6]), f([3, 5])], (a, b) => tf.matMul(a!, b!, true, true));
  await check('BatchMatMul', [f([2, 4, 5]), f([2, 5, 3])], (a, b) => tf.matMul(a!, b!));
  await check('BatchMatMul tB', [f([2, 4, 5]), f([2, 3, 5])], (a, b) => tf.matMul(a!, b!, false, true));
  await check('Sum all', [f([3, 4, 5])], (x) => tf.sum(x!));
  await check('Sum axes keepDims', [f([3, 4, 5])], (x) => tf.sum(x!, [0, 2], true));
  await check('Sum axis -1', [f([3, 4, 5])], (x) => tf.sum(x!, -1));
  await check('Reshape', [f([3, 4, 5])], (x) => tf.reshape(x!, [4, -1]));
  await check('Identity', [f([3, 4])], (x) => tf.clone(x!));
  await check('Cast int32->float32', [{ v: Int32Array.from([1, -2, 3]), s: [3], d: 'int32' }], (x) => tf.cast(x!, 'float32'));
});

test('torch backend gradient of sum(relu(matmul)) matches wasm', { skip: ok ? false : `native addon not built: ${why}` }, async () => {
  const a = f([4, 6]);
  const w = f([6, 3]);
  for (const arg of [0, 1]) {
    await check(`grad wrt input ${arg}`, [a, w], (x, y) => {
      const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.relu(tf.matMul(p, q))));
      const gs = g([x!, y!]);
      tf.dispose(gs[1 - arg]!);
      return gs[arg]!;
    });
  }
});

test('torch backend: tidy leaves no JS or native tensors behind', { skip: ok ? false : `native addon not built: ${why}` }, async () => {
  await tf.setBackend('torch');
  const addon = torchAddon()!;
  const x = tf.tensor(rand(12), [3, 4]);
  tf.tidy(() => x.add(0)); // x's native copy is created lazily on first kernel use: make it now
  const before = tf.memory().numTensors;
  const nativeBefore = addon.count();
  const kept = tf.tidy(() => tf.sum(tf.relu(tf.matMul(x, x.reshape([3, 4]).add(1), false, true)), [0, 1], true));
  await kept.data();
  kept.dispose();
  tf.tidy(() => { tf.sigmoid(tf.exp(tf.log(tf.add(x.mul(x), 1)))).div(2).sub(1); });
  assert.equal(tf.memory().numTensors, before, 'JS tensors leaked');
  assert.equal(addon.count(), nativeBefore, 'native tensors leaked');
  x.dispose();
});
