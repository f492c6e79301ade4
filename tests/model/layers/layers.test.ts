// Layer building blocks against hand-computed (float64 JS) references.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, expectNoLeak, setupBackend, tf } from '../../helpers/tf.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { Conv2d, convOutSize } from '../../../src/model/layers/conv2d.ts';
import { Linear } from '../../../src/model/layers/linear.ts';
import { LayerNorm } from '../../../src/model/layers/layerNorm.ts';
import { GroupNorm } from '../../../src/model/layers/groupNorm.ts';
import { BatchNorm2d } from '../../../src/model/layers/batchNorm.ts';
import { ConvGnRelu } from '../../../src/model/layers/convGnRelu.ts';
import { geluErf, quickGelu } from '../../../src/model/layers/activations.ts';
import { biasForPrior } from '../../../src/model/layers/init.ts';
import { fromTorchStateDict, oihwToHwio, toTorchStateDict } from '../../../src/model/layers/torchLayout.ts';
import { Rng } from '../../../src/ops/rng.ts';

const rng = new Rng(11);
const rand = (n: number, r = new Rng(n)): Float32Array => Float32Array.from({ length: n }, () => r.normal());

/** Naive NHWC conv with torch semantics (symmetric zero padding p), HWIO weights, float64. */
function naiveConv(x: Float32Array, [b, h, w, c]: number[], wt: Float32Array, k: number, cout: number, s: number, p: number, d = 1): number[] {
  const ho = Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1;
  const wo = Math.floor((w + 2 * p - d * (k - 1) - 1) / s) + 1;
  const out: number[] = [];
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let o = 0; o < cout; o++) {
          let acc = 0;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const y = oy * s - p + i * d;
              const xx = ox * s - p + j * d;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              for (let ci = 0; ci < c; ci++) acc += x[((n * h + y) * w + xx) * c + ci]! * wt[((i * k + j) * c + ci) * cout + o]!;
            }
          out.push(acc);
        }
  return out;
}

describe('layers', () => {
  before(setupBackend);

  it('Conv2d: torch symmetric padding with stride 2 and dilation, vs a naive loop; no leak', async () => {
    for (const [k, s, p, d, h, w] of [[3, 2, 1, 1, 8, 7], [7, 2, 3, 1, 10, 10], [3, 1, 2, 2, 6, 5], [1, 2, 0, 1, 5, 5]] as const) {
      const store = ParamStore.create();
      const conv = new Conv2d(store.scope('c'), { inChannels: 3, outChannels: 4, kernel: k, stride: s, padding: p, dilation: d, bias: true }, rng);
      tf.tidy(() => conv.bias!.assign(tf.tensor1d([0.5, -1, 0, 2])));
      const xs = rand(2 * h * w * 3);
      const x = tf.tensor4d(xs, [2, h, w, 3]);
      await expectNoLeak(() => tf.tidy(() => {
        const y = conv.forward(x);
        assert.deepEqual(y.shape, [2, convOutSize(h, k, s, p, d), convOutSize(w, k, s, p, d), 4]);
        assert.deepEqual(conv.outSize(h, w), [y.shape[1], y.shape[2]]);
        const ref = naiveConv(xs, [2, h, w, 3], conv.weight.dataSync() as Float32Array, k, 4, s, p, d).map((v, i) => v + [0.5, -1, 0, 2][i % 4]!);
        assertClose(y.dataSync(), ref, { rtol: 1e-5, atol: 1e-5, what: `conv k${k} s${s} p${p} d${d}` });
      }));
      assert.equal(conv.macs(h, w), y2macs(h, w, k, s, p, d));
      x.dispose();
      store.dispose();
    }
    function y2macs(h: number, w: number, k: number, s: number, p: number, d: number): number {
      return convOutSize(h, k, s, p, d) * convOutSize(w, k, s, p, d) * k * k * 3 * 4;
    }
  });

  it('Linear uses torch [out, in] weights: y = x Wᵀ + b', async () => {
    const store = ParamStore.create();
    const lin = new Linear(store.scope('fc'), { inFeatures: 3, outFeatures: 2 }, rng);
    assert.deepEqual(lin.weight.shape, [2, 3]);
    tf.tidy(() => { lin.weight.assign(tf.tensor2d([[1, 2, 3], [-1, 0, 0.5]])); lin.bias!.assign(tf.tensor1d([0.25, -0.5])); });
    const x = tf.tensor3d([1, 1, 1, 2, 0, -2], [1, 2, 3]);
    await expectNoLeak(() => tf.tidy(() => {
      const y = lin.forward(x);
      assert.deepEqual(y.shape, [1, 2, 2]);
      assertClose(y.dataSync(), [6.25, -1, -3.75, -3.5]); // [1,1,1]: 6+.25, -.5-.5; [2,0,-2]: -4+.25, -3-.5
    }));
    x.dispose();
    store.dispose();
  });

  it('LayerNorm and GroupNorm: biased variance, eps 1e-5, affine', async () => {
    const store = ParamStore.create();
    const ln = new LayerNorm(store.scope('ln'), 4);
    const gn = new GroupNorm(store.scope('gn'), 2, 4);
    tf.tidy(() => {
      ln.weight.assign(tf.tensor1d([1, 2, 0.5, 1])); ln.bias.assign(tf.tensor1d([0, 1, 0, -1]));
      gn.weight.assign(tf.tensor1d([1, 2, 0.5, 1])); gn.bias.assign(tf.tensor1d([0, 1, 0, -1]));
    });
    const xs = rand(2 * 3 * 2 * 4);
    const x = tf.tensor4d(xs, [2, 3, 2, 4]);
    const wv = [1, 2, 0.5, 1];
    const bv = [0, 1, 0, -1];
    // LayerNorm reference: per position over 4 channels
    const lnRef: number[] = [];
    for (let pos = 0; pos < 12; pos++) {
      const v = Array.from(xs.slice(pos * 4, pos * 4 + 4));
      const m = v.reduce((a, b) => a + b) / 4;
      const va = v.reduce((a, b) => a + (b - m) ** 2, 0) / 4;
      v.forEach((e, c) => lnRef.push(((e - m) / Math.sqrt(va + 1e-5)) * wv[c]! + bv[c]!));
    }
    // GroupNorm reference: per sample, channels {0,1} and {2,3} over all 6 positions
    const gnRef = new Array<number>(xs.length);
    for (let n = 0; n < 2; n++)
      for (let g = 0; g < 2; g++) {
        const idx: number[] = [];
        for (let pos = 0; pos < 6; pos++) for (let c = 2 * g; c < 2 * g + 2; c++) idx.push((n * 6 + pos) * 4 + c);
        const m = idx.reduce((a, i) => a + xs[i]!, 0) / idx.length;
        const va = idx.reduce((a, i) => a + (xs[i]! - m) ** 2, 0) / idx.length;
        for (const i of idx) gnRef[i] = ((xs[i]! - m) / Math.sqrt(va + 1e-5)) * wv[i % 4]! + bv[i % 4]!;
      }
    await expectNoLeak(() => tf.tidy(() => {
      assertClose(ln.forward(x).dataSync(), lnRef, { what: 'layernorm' });
      assertClose(gn.forward(x).dataSync(), gnRef, { what: 'groupnorm' });
    }));
    x.dispose();
    store.dispose();
  });

  it('BatchNorm2d: eval uses running stats; unfrozen training uses batch stats and updates running stats like torch', async () => {
    const store = ParamStore.create();
    const bn = new BatchNorm2d(store.scope('bn'), 2, { frozen: false });
    tf.tidy(() => { bn.runningMean.assign(tf.tensor1d([1, -1])); bn.runningVar.assign(tf.tensor1d([4, 0.25])); bn.weight.assign(tf.tensor1d([2, 1])); bn.bias.assign(tf.tensor1d([0, 3])); });
    const x = tf.tensor4d([0, 0, 2, 1, 4, -2, 6, 1], [1, 2, 2, 2]); // channel 0: 0,2,4,6  channel 1: 0,1,-2,1
    await expectNoLeak(() => tf.tidy(() => {
      const e = bn.forward(x, false).dataSync();
      // channel 0: (x - 1)/2·2 + 0 = x - 1; channel 1: (x + 1)/0.5·1 + 3 = 2x + 5 (eps 1e-5 makes it ~4e-5 off)
      assertClose(e, [-1, 5, 1, 7, 3, 1, 5, 7], { rtol: 1e-4, atol: 1e-4, what: 'eval' });
      const t = bn.forward(x, true).dataSync();
      // channel 0 batch mean 3, biased var 5; channel 1 mean 0, var 1.5
      assertClose([t[0]!, t[1]!], [2 * (-3 / Math.sqrt(5 + 1e-5)), 3 + 0], { what: 'train' });
    }));
    // running: 0.9·old + 0.1·batch (unbiased var: 5·4/3, 1.5·4/3)
    assertClose(bn.runningMean.dataSync(), [0.9 * 1 + 0.3, 0.9 * -1]);
    assertClose(bn.runningVar.dataSync(), [0.9 * 4 + 0.1 * (20 / 3), 0.9 * 0.25 + 0.1 * 2]);
    const frozen = new BatchNorm2d(store.scope('f'), 2, { frozen: true, freezeAffine: true });
    tf.tidy(() => { const y = frozen.forward(x, true); assertClose(y.dataSync(), Array.from(x.dataSync()).map((v) => v / Math.sqrt(1 + 1e-5))); });
    assert.deepEqual(store.scope('f').entries({ trainableOnly: true }), []);
    x.dispose();
    store.dispose();
  });

  it('ConvGnRelu has mmcv ConvModule names and is non-negative', () => {
    const store = ParamStore.create();
    const m = new ConvGnRelu(store.scope('t'), { inChannels: 2, outChannels: 4, kernel: 3, groups: 2 }, rng);
    assert.deepEqual(store.entries().map(([n]) => n), ['t.conv.weight', 't.gn.weight', 't.gn.bias']);
    const x = tf.randomNormal([1, 5, 5, 2]) as tf.Tensor4D;
    tf.tidy(() => assert.ok(m.forward(x).dataSync().every((v) => v >= 0)));
    x.dispose();
    store.dispose();
  });

  it('activations: exact erf GELU and QuickGELU', async () => {
    const x = tf.tensor1d([-3, -1, -0.5, 0, 0.5, 1, 2.5]);
    // Φ(x) from erf values: erf(1/√2) = 0.6826894921370859, erf(0.5/√2) = 0.3829249225480262,
    // erf(3/√2) = 0.9973002039367398, erf(2.5/√2) = 0.9875806693484477
    const phi = (e: number): number => 0.5 * (1 + e);
    const ref = [-3 * phi(-0.9973002039367398), -phi(-0.6826894921370859), -0.5 * phi(-0.3829249225480262), 0,
      0.5 * phi(0.3829249225480262), phi(0.6826894921370859), 2.5 * phi(0.9875806693484477)];
    await expectNoLeak(() => tf.tidy(() => {
      assertClose(geluErf(x).dataSync(), ref, { rtol: 1e-6, atol: 1e-6, what: 'gelu' });
      assertClose(quickGelu(x).dataSync(), [-3, -1, -0.5, 0, 0.5, 1, 2.5].map((v) => v / (1 + Math.exp(-1.702 * v))), { rtol: 1e-6, atol: 1e-7, what: 'quickgelu' });
    }));
    x.dispose();
  });

  it('prior bias: sigmoid(biasForPrior(p)) = p', () => {
    assert.ok(Math.abs(biasForPrior(0.01) - -4.59511985013459) < 1e-12);
    assert.ok(Math.abs(1 / (1 + Math.exp(-biasForPrior(0.2))) - 0.2) < 1e-12);
  });

  it('torch layout: OIHW -> HWIO places w[o,i,y,x] at [y,x,i,o]; round trip; non-4-D untouched', () => {
    const o = 2, i = 3, h = 2, w = 3;
    const data = Float32Array.from({ length: o * i * h * w }, (_, n) => n);
    const conv = oihwToHwio({ shape: [o, i, h, w], data });
    assert.deepEqual(conv.shape, [h, w, i, o]);
    // w[1, 2, 1, 0] = ((1*3 + 2)*2 + 1)*3 + 0 = 33 -> hwio index ((1*3 + 0)*3 + 2)*2 + 1 = 23
    assert.equal(conv.data[23], 33);
    const sd = new Map([['a.weight', { shape: [o, i, h, w], data }], ['b.weight', { shape: [4, 3], data: new Float32Array(12) }]]);
    const ours = fromTorchStateDict(sd);
    assert.equal(ours.get('b.weight'), sd.get('b.weight'));
    assert.deepEqual(Array.from(toTorchStateDict(ours).get('a.weight')!.data), Array.from(data));
  });
});
