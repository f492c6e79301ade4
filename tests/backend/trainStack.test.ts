// A detector-style training step runs on wasm: every gradient exists, is finite and equals cpu's.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setupBackend, tf } from '../helpers/tf.ts';
import { expectWasmMatchesCpu, randT, runOn } from './crossBackend.ts';

const groupNorm = (x: tf.Tensor4D, groups: number, gamma: tf.Tensor, beta: tf.Tensor) => {
  const [b, h, w, c] = x.shape;
  const g = tf.reshape(x, [b, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(g, [1, 2, 4], true);
  const n = tf.reshape(tf.div(tf.sub(g, mean), tf.sqrt(tf.add(variance, 1e-5))), [b, h, w, c]);
  return tf.add(tf.mul(n, gamma), beta);
};

/** conv -> groupnorm -> relu -> conv(stride 2) -> mean, trained with tf.variableGrads; returns loss + grads. */
function stackGrads(): tf.Tensor[] {
  const x = randT([2, 10, 10, 3], 1) as tf.Tensor4D;
  const vars = {
    w1: tf.variable(tf.mul(randT([3, 3, 3, 8], 2), 0.5), true, 'w1'),
    gamma: tf.variable(tf.add(1, tf.mul(randT([8], 3), 0.1)), true, 'gamma'),
    beta: tf.variable(tf.mul(randT([8], 4), 0.1), true, 'beta'),
    w2: tf.variable(tf.mul(randT([3, 3, 8, 4], 5), 0.3), true, 'w2'),
  };
  const { value, grads } = tf.variableGrads(() => {
    const h = tf.conv2d(x, vars.w1 as tf.Tensor4D, 1, 'same');
    const n = tf.relu(groupNorm(h, 4, vars.gamma, vars.beta));
    const y = tf.conv2d(n as tf.Tensor4D, vars.w2 as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    return tf.mean(tf.square(y)) as tf.Scalar;
  }, Object.values(vars));
  const out = [value, ...Object.values(vars).map((v) => grads[v.name]!)];
  Object.values(vars).forEach((v) => v.dispose());
  return out;
}

/** Ops a detector uses; each gets forward+backward on a shared input. */
const OPS: Record<string, (x: tf.Tensor4D) => tf.Tensor> = {
  relu: (x) => tf.relu(x),
  sigmoid: (x) => tf.sigmoid(x),
  geluErf: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))),
  softplus: (x) => tf.softplus(x),
  leakyRelu: (x) => tf.leakyRelu(x, 0.1),
  gatherAxis2: (x) => tf.gather(x, [3, 3, 0], 2),
  gatherBatch: (x) => tf.gather(tf.reshape(x, [2, 64]), tf.tensor2d([[1, 2], [3, 3]], [2, 2], 'int32'), 1, 1),
  // batch 1: tfjs-cpu's ResizeNearestNeighborGrad mixes up images when batch > 1 (checked by hand below)
  resizeNearest: (x) => tf.image.resizeNearestNeighbor(tf.slice(x, [0, 0, 0, 0], [1, 4, 4, 4]), [8, 8]),
  resizeBilinear: (x) => tf.image.resizeBilinear(x, [7, 5]),
  maxPool: (x) => tf.maxPool(x, 3, 2, 'same'),
  avgPool: (x) => tf.avgPool(x, 2, 2, 'valid'),
  concatSlicePad: (x) => tf.pad(tf.slice(tf.concat([x, tf.mul(x, 2)], 3), [0, 1, 1, 0], [2, 3, 3, 6]), [[0, 0], [1, 2], [2, 1], [0, 0]]),
  transposeMatmul: (x) => tf.matMul(tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [8, 16]), tf.reshape(x, [16, 8]), false, false),
  batchMatmulT: (x) => tf.matMul(tf.reshape(x, [2, 8, 8]), tf.reshape(x, [2, 8, 8]), true, true),
  softmax: (x) => tf.softmax(x),
  logSoftmax: (x) => tf.logSoftmax(x),
  layerNorm: (x) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
  },
  batchNorm: (x) => tf.batchNorm(x, tf.fill([4], 0.1), tf.fill([4], 2), tf.fill([4], 0.5), tf.fill([4], 1.5), 1e-5),
  depthwiseS2: (x) => tf.depthwiseConv2d(x, tf.fill([3, 3, 4, 2], 0.3) as tf.Tensor4D, 2, 'same'),
  conv2dTranspose: (x) => tf.conv2dTranspose(x, tf.fill([2, 2, 3, 4], 0.2) as tf.Tensor4D, [2, 8, 8, 3], 2, 'same'),
  fusedMatMul: (x) => tf.fused.matMul({ a: tf.reshape(x, [8, 16]), b: tf.fill([16, 5], 0.1), bias: tf.ones([5]), activation: 'relu' }),
  maxMinReduce: (x) => tf.add(tf.max(x, [1, 2]), tf.min(x, [1, 2])),
  logSumExp: (x) => tf.logSumExp(x, -1),
  cumsumLast: (x) => tf.cumsum(x, 3),
  tileStackSplit: (x) => tf.stack([tf.tile(x, [1, 2, 1, 1]), tf.tile(x, [1, 2, 1, 1])], 1).split(2, 4)[1]!,
  clipAbsMaxMin: (x) => tf.add(tf.clipByValue(x, -0.5, 0.5), tf.maximum(tf.abs(x), 0.2)),
  sigmoidCrossEntropy: (x) => tf.losses.sigmoidCrossEntropy(tf.zerosLike(x), x),
  unsortedSegmentSum: (x) => tf.unsortedSegmentSum(tf.reshape(x, [8, 16]), tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 2], 'int32'), 3),
  mirrorPad: (x) => tf.mirrorPad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], 'reflect'),
};

describe('training on wasm', () => {
  before(async () => {
    await setupBackend();
  });

  it('conv -> groupnorm -> relu -> conv -> mean: variableGrads finite and equal to cpu', async () => {
    const got = await runOn('wasm', stackGrads);
    for (const g of got) assert.ok(g.every(Number.isFinite), 'non-finite gradient on wasm');
    assert.ok(got.slice(1).every((g) => g.some((v) => v !== 0)), 'a gradient is all zero');
    await expectWasmMatchesCpu('stack', stackGrads, { rtol: 1e-3, atol: 1e-5 });
  });

  for (const [name, f] of Object.entries(OPS)) {
    it(`${name}: forward + backward match cpu`, async () => {
      await expectWasmMatchesCpu(name, () => {
        const x = randT([2, 4, 4, 4], 11) as tf.Tensor4D;
        const r = tf.tidy(() => randT(f(x).shape, 12));
        const { value, grad } = tf.valueAndGrad((a: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D), r)))(x);
        return [value, grad];
      });
    });
  }

  it('resizeNearest gradient with batch 2 sums each image separately (hand check)', () => {
    tf.tidy(() => {
      // [2,1,1,1] -> [2,2,2,1]; upstream gradient 2^i: image 0 gets 1+2+4+8, image 1 gets 16+...+128.
      const r = tf.tensor4d(Array.from({ length: 8 }, (_, i) => 2 ** i), [2, 2, 2, 1]);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [2, 2]), r)))(tf.zeros([2, 1, 1, 1]));
      assert.deepEqual(Array.from(g.dataSync()), [15, 240]);
    });
  });
});
