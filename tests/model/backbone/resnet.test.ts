// ResNet vs torchvision 0.14 (tests/fixtures/golden/resnet.json + safetensors): stem and C2..C5 to 1e-4.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { assertClose, expectNoLeak, setupBackend, tf } from '../../helpers/tf.ts';
import { f32, FIXTURES, loadFixtureJson, nchwToNhwc } from '../../helpers/golden.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { convBn, ResNet, type ResNetConfig } from '../../../src/model/backbone/resnet.ts';
import { Conv2d } from '../../../src/model/layers/conv2d.ts';
import { BatchNorm2d } from '../../../src/model/layers/batchNorm.ts';
import { fromTorchStateDict } from '../../../src/model/layers/torchLayout.ts';
import { readSafetensors } from '../../../src/io/safetensors.ts';
import { Rng } from '../../../src/ops/rng.ts';

const NETS: Record<string, ResNetConfig> = {
  basic: { block: 'basic', depths: [1, 1, 1, 1], frozenBn: true },
  bottleneck: { block: 'bottleneck', depths: [1, 1, 1, 1], planes: [24, 32, 48, 64], frozenBn: true },
};

function build(net: string): { store: ParamStore; model: ResNet } {
  const fx = loadFixtureJson('golden/resnet.json');
  const store = ParamStore.create();
  const model = new ResNet(store.scope('backbone'), NETS[net]!, new Rng(1));
  const { tensors } = readSafetensors(path.join(FIXTURES, 'golden', fx.nets[net].weights_file));
  const missing = store.scope('backbone').load(fromTorchStateDict(tensors), { where: net });
  assert.deepEqual(missing, [], 'every parameter comes from the torchvision file');
  return { store, model };
}

describe('ResNet (torchvision golden)', () => {
  before(setupBackend);

  for (const net of Object.keys(NETS)) {
    it(`${net}: stem, C2..C5 match torchvision to 1e-4`, () => {
      const fx = loadFixtureJson('golden/resnet.json');
      const { store, model } = build(net);
      const inp = f32(fx.input);
      const x = tf.tensor4d(nchwToNhwc(inp.data, inp.shape), [1, 64, 64, 3]);
      tf.tidy(() => {
        const outs = { stem: model.stem(x), ...model.forward(x, false) };
        for (const [name, t] of Object.entries(outs)) {
          const ref = f32(fx.nets[net].outputs[name]);
          assert.deepEqual(t.shape, [ref.shape[0], ref.shape[2], ref.shape[3], ref.shape[1]], `${name} shape`);
          assertClose(t.dataSync(), nchwToNhwc(ref.data, ref.shape), { rtol: 1e-4, atol: 1e-4, what: `${net} ${name}` });
        }
      });
      x.dispose();
      store.dispose();
    });
  }

  it('output channels and strides; a batch of 2 equals its samples one by one; no leaks', async () => {
    const { store, model } = build('bottleneck');
    assert.deepEqual(model.outChannels, { C2: 96, C3: 128, C4: 192, C5: 256 });
    const x = tf.randomNormal([2, 64, 96, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    await expectNoLeak(() => tf.tidy(() => {
      const both = model.forward(x, true);
      assert.deepEqual(both.C3.shape, [2, 8, 12, 128]);
      assert.deepEqual(both.C5.shape, [2, 2, 3, 256]);
      for (let i = 0; i < 2; i++) {
        const one = model.forward(tf.slice(x, [i, 0, 0, 0], [1, 64, 96, 3]), true);
        for (const lvl of ['C2', 'C3', 'C4', 'C5'] as const) {
          assertClose(one[lvl].dataSync(), tf.slice(both[lvl], [i, 0, 0, 0], [1, -1, -1, -1]).dataSync(), { rtol: 1e-5, atol: 1e-5, what: lvl });
        }
      }
    }));
    x.dispose();
    store.dispose();
  });

  it('frozen BN folded into a fused conv: same values and gradients as conv -> BN -> ReLU', async () => {
    const store = ParamStore.create();
    const rng = new Rng(21);
    const conv = new Conv2d(store.scope('conv'), { inChannels: 3, outChannels: 4, kernel: 3, stride: 2 }, rng);
    const bn = new BatchNorm2d(store.scope('bn'), 4, { frozen: true });
    tf.tidy(() => {
      bn.weight.assign(tf.tensor1d([0.5, 1.5, -1, 2])); bn.bias.assign(tf.tensor1d([0.1, -0.2, 0.3, 0]));
      bn.runningMean.assign(tf.tensor1d([0.2, -0.1, 0, 0.5])); bn.runningVar.assign(tf.tensor1d([0.5, 2, 1, 0.8]));
    });
    const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 22) as tf.Tensor4D;
    const r = tf.randomNormal([2, 5, 4, 4], 0, 1, 'float32', 23);
    const vars = [conv.weight, bn.weight, bn.bias];
    await expectNoLeak(() => {
      const folded = tf.variableGrads(() => tf.sum(tf.mul(convBn(conv, bn, x, true, true), r)) as tf.Scalar, vars);
      const plain = tf.variableGrads(() => tf.sum(tf.mul(tf.relu(bn.forward(conv.forward(x), true)), r)) as tf.Scalar, vars);
      assertClose(folded.value.dataSync(), plain.value.dataSync(), { rtol: 1e-5, atol: 1e-5, what: 'value' });
      for (const v of vars) assertClose(folded.grads[v.name]!.dataSync(), plain.grads[v.name]!.dataSync(), { rtol: 1e-4, atol: 1e-5, what: v.name });
      tf.dispose([folded.value, plain.value, ...Object.values(folded.grads), ...Object.values(plain.grads)]);
    });
    x.dispose();
    r.dispose();
    store.dispose();
  });

  it('frozen stages and BN: trainable names, running stats never trainable', () => {
    const store = ParamStore.create();
    new ResNet(store.scope('backbone'), { block: 'bottleneck', depths: [1, 1, 1, 1], planes: [8, 8, 8, 8], frozenBn: true, frozenStages: 1 }, new Rng(0));
    const trainable = new Set(store.entries({ trainableOnly: true }).map(([n]) => n));
    assert.ok(!trainable.has('backbone.conv1.weight'));
    assert.ok(!trainable.has('backbone.layer1.0.conv2.weight'));
    assert.ok(!trainable.has('backbone.layer1.0.bn2.weight'));
    assert.ok(trainable.has('backbone.layer2.0.conv2.weight'));
    assert.ok(trainable.has('backbone.layer2.0.bn2.weight'));
    assert.ok(![...trainable].some((n) => n.includes('running_')));
    store.dispose();
  });

  it('ResNet-50 size equals torchvision: 25,557,032 params incl. fc, 4.09 GMACs at 224', () => {
    const store = ParamStore.create();
    const constant = { normal: () => 0, next: () => 0.5 }; // values are irrelevant to counting
    const model = new ResNet(store, { block: 'bottleneck', depths: [3, 4, 6, 3], frozenBn: true }, constant);
    // torchvision resnet50: 25,557,032 parameters; fc = 2048*1000 + 1000 = 2,049,000; BN running stats = 53,120.
    const buffers = store.entries().filter(([n]) => n.includes('running_')).reduce((a, [, v]) => a + v.size, 0);
    assert.equal(buffers, 53120);
    assert.equal(store.count() - buffers, 25557032 - 2049000);
    // torchvision's table gives 4.09 GFLOPs (multiply-adds) at 224, fc (2048·1000) included
    const macs = model.macs(224, 224).macs + 2048 * 1000;
    assert.ok(Math.abs(macs / 1e9 - 4.09) < 0.005, `${macs}`);
    assert.deepEqual(model.macs(224, 224).sizes, { C2: [56, 56], C3: [28, 28], C4: [14, 14], C5: [7, 7] });
    store.dispose();
  });
});
