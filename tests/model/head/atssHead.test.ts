// ATSS head: shapes, names, DCN fed by the regression tower (gradient path), prior, scales, similarity formula.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, expectNoLeak, setupBackend, tf } from '../../helpers/tf.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { AtssHead, l2Normalize, type AtssHeadConfig } from '../../../src/model/head/atssHead.ts';
import { Rng } from '../../../src/ops/rng.ts';

const CFG: AtssHeadConfig = { inChannels: 8, towerConvs: 2, gnGroups: 4, useDcn: true, embedDim: 16, priorProb: 0.01, regActivation: 'exp', logitScaleInit: 5, strides: [8, 16] };
const SIZES: [number, number][] = [[6, 5], [3, 3]];

function levels(b: number, seed = 1): tf.Tensor4D[] {
  return SIZES.map(([h, w], i) => tf.randomNormal([b, h, w, 8], 0, 1, 'float32', seed + i) as tf.Tensor4D);
}

describe('ATSS head', () => {
  before(setupBackend);

  it("towerInit: std-0.01 normal by default (mmdet), Kaiming (fan-out) when 'kaiming'", () => {
    const stdOf = (t: tf.Tensor): number => Math.sqrt(tf.tidy(() => tf.mean(tf.square(t)).dataSync()[0]!));
    for (const [init, expected] of [[undefined, 0.01], ['kaiming', Math.sqrt(2 / (9 * 8))]] as const) {
      const store = ParamStore.create();
      new AtssHead(store.scope('head'), { ...CFG, inChannels: 8, towerInit: init }, new Rng(3));
      for (const n of ['head.reg_convs.0.conv.weight', 'head.cls_convs.0.conv.weight', 'head.cls_convs.1.conv.weight']) {
        const got = stdOf(store.get(n));
        assert.ok(Math.abs(got / expected - 1) < 0.2, `${init ?? 'default'} ${n}: std ${got} vs ${expected}`);
      }
      assert.ok(stdOf(store.get('head.region_embed.weight')) < 0.012, 'prediction convs keep std 0.01');
      store.dispose();
    }
  });

  it('shapes, unit-length embeddings, positive ltrb, names; no leak', async () => {
    const store = ParamStore.create();
    const head = new AtssHead(store.scope('head'), CFG, new Rng(2));
    const names = store.entries().map(([n]) => n);
    for (const n of ['head.reg_convs.1.conv.weight', 'head.reg_convs.1.gn.bias', 'head.cls_convs.0.conv.weight', 'head.cls_convs.0.conv_offset.weight',
      'head.cls_convs.1.gn.weight', 'head.atss_reg.bias', 'head.atss_centerness.weight', 'head.region_embed.weight', 'head.scales.1.scale', 'head.logit_scale', 'head.logit_bias']) {
      assert.ok(names.includes(n), n);
    }
    assert.deepEqual(store.get('head.cls_convs.0.conv_offset.weight').shape, [3, 3, 8, 27]);
    const xs = levels(2);
    await expectNoLeak(() => tf.tidy(() => {
      const out = head.forward(xs);
      const k = 30 + 9;
      assert.deepEqual(out.embeddings.shape, [2, k, 16]);
      assert.deepEqual(out.ltrb.shape, [2, k, 4]);
      assert.deepEqual(out.centerness.shape, [2, k]);
      assertClose(tf.norm(out.embeddings, 2, -1).dataSync(), new Array(2 * k).fill(1), { what: 'unit norm' });
      assert.ok(out.ltrb.dataSync().every((v) => v > 0));
    }));
    xs.forEach((t) => t.dispose());
    store.dispose();
  });

  it('useDcn false: a plain conv with the same names and no conv_offset', () => {
    const store = ParamStore.create();
    new AtssHead(store.scope('head'), { ...CFG, useDcn: false }, new Rng(2));
    assert.ok(store.has('head.cls_convs.0.conv.weight'));
    assert.ok(!store.entries().some(([n]) => n.includes('conv_offset')));
    store.dispose();
  });

  it('the classification loss reaches the regression tower only through the DCN', async () => {
    for (const useDcn of [true, false]) {
      const store = ParamStore.create();
      const head = new AtssHead(store.scope('head'), { ...CFG, useDcn }, new Rng(4));
      // conv_offset starts at zero (mmcv); give it values so offsets/masks depend on the regression features
      if (useDcn) tf.tidy(() => store.get('head.cls_convs.0.conv_offset.weight').assign(tf.randomNormal([3, 3, 8, 27], 0, 0.2, 'float32', 9)));
      const xs = levels(1, 5);
      const concepts = tf.randomNormal([3, 16], 0, 1, 'float32', 6) as tf.Tensor2D;
      const regVars = ['head.reg_convs.0.gn.weight', 'head.reg_convs.1.gn.bias'].map((n) => store.get(n));
      const clsVar = store.get('head.cls_convs.1.gn.weight');
      await expectNoLeak(() => {
        const { value, grads } = tf.variableGrads(() => {
          const out = head.forward(xs);
          return tf.sum(head.similarityLogits(out.embeddings, concepts)) as tf.Scalar; // classification only
        }, [...regVars, clsVar]);
        const g = (v: tf.Variable): tf.Tensor | undefined => grads[v.name];
        assert.ok(g(clsVar) && tf.tidy(() => tf.max(tf.abs(g(clsVar)!)).dataSync()[0]!) > 0);
        for (const v of regVars) {
          const mag = g(v) ? tf.tidy(() => tf.max(tf.abs(g(v)!)).dataSync()[0]!) : 0;
          if (useDcn) assert.ok(mag > 1e-6, `${v.name}: regression tower gets gradient with DCN (${mag})`);
          else assert.equal(mag, 0, `${v.name}: no gradient without DCN`);
        }
        value.dispose();
        Object.values(grads).forEach((t) => t.dispose());
      });
      xs.forEach((t) => t.dispose());
      concepts.dispose();
      store.dispose();
    }
  });

  it('zero-initialised offsets: at init the DCN branch equals a plain conv on half-weighted taps (mask 0.5)', () => {
    const a = ParamStore.create();
    const b = ParamStore.create();
    const dcn = new AtssHead(a.scope('head'), CFG, new Rng(7));
    const plain = new AtssHead(b.scope('head'), { ...CFG, useDcn: false }, new Rng(7));
    // Copy every parameter; zero offsets and mask sigmoid(0) = 0.5 make the DCN a plain conv with half the weights.
    for (const [n, v] of b.entries()) tf.tidy(() => v.assign(a.get(n)));
    tf.tidy(() => b.get('head.cls_convs.0.conv.weight').assign(tf.mul(a.get('head.cls_convs.0.conv.weight'), 0.5)));
    const xs = levels(1, 8);
    tf.tidy(() => {
      const o1 = dcn.forward(xs);
      const o2 = plain.forward(xs);
      assertClose(o1.embeddings.dataSync(), o2.embeddings.dataSync(), { rtol: 1e-4, atol: 1e-5, what: 'embeddings' });
      assertClose(o1.ltrb.dataSync(), o2.ltrb.dataSync(), { what: 'ltrb' });
    });
    xs.forEach((t) => t.dispose());
    a.dispose();
    b.dispose();
  });

  it('regression: ltrb = stride · exp(scale_l · atss_reg) (relu variant too), per level', () => {
    for (const act of ['exp', 'relu'] as const) {
      const store = ParamStore.create();
      const head = new AtssHead(store.scope('head'), { ...CFG, regActivation: act }, new Rng(2));
      tf.tidy(() => {
        store.get('head.atss_reg.weight').assign(tf.zerosLike(store.get('head.atss_reg.weight')));
        store.get('head.atss_reg.bias').assign(tf.tensor1d([0.5, -1, 0, 1]));
        store.get('head.scales.1.scale').assign(tf.scalar(2));
      });
      const xs = levels(1);
      tf.tidy(() => {
        const ltrb = head.forward(xs).ltrb.arraySync() as number[][][];
        const f = act === 'exp' ? Math.exp : (v: number) => Math.max(v, 0);
        assertClose(ltrb[0]![0]!, [0.5, -1, 0, 1].map((v) => 8 * f(v)), { what: `${act} level 0` });
        assertClose(ltrb[0]![30]!, [0.5, -1, 0, 1].map((v) => 16 * f(2 * v)), { what: `${act} level 1` });
      });
      xs.forEach((t) => t.dispose());
      store.dispose();
    }
  });

  it('similarity: min(exp(logit_scale),100)·cos + bias by hand; the prior gives sigmoid ≈ 0.01 at init', async () => {
    const store = ParamStore.create();
    const head = new AtssHead(store.scope('head'), { ...CFG, embedDim: 2 }, new Rng(2));
    const bias = -Math.log(99);
    assertClose(store.get('head.logit_bias').dataSync(), [bias], { rtol: 1e-6 });
    assertClose(store.get('head.logit_scale').dataSync(), [Math.log(5)], { rtol: 1e-6 });
    const region = tf.tensor3d([1, 0, 0, 1], [1, 2, 2]);
    const concept = tf.tensor2d([3, 4, -2, 0], [2, 2]); // unnormalised: cosines (0.6, -1) and (0.8, 0)
    await expectNoLeak(() => tf.tidy(() => {
      const logits = head.similarityLogits(region, concept);
      assert.deepEqual(logits.shape, [1, 2, 2]);
      assertClose(logits.dataSync(), [5 * 0.6 + bias, -5 + bias, 5 * 0.8 + bias, bias], { what: 'logits' });
      store.get('head.logit_scale').assign(tf.scalar(Math.log(1000)));
      assertClose(head.similarityLogits(region, concept).dataSync(), [100 * 0.6 + bias, -100 + bias, 80 + bias, bias], { what: 'capped at 100' });
    }));
    region.dispose();
    concept.dispose();
    store.dispose();
    // Prior with the real embedding size: random concepts against the head's region embeddings at init
    const s2 = ParamStore.create();
    const h2 = new AtssHead(s2.scope('head'), { ...CFG, embedDim: 64 }, new Rng(3));
    const xs = levels(2, 11);
    const concepts = tf.randomNormal([50, 64], 0, 1, 'float32', 12) as tf.Tensor2D;
    tf.tidy(() => {
      const p = Array.from(tf.sigmoid(h2.similarityLogits(h2.forward(xs).embeddings, concepts)).dataSync()).sort((a, b) => a - b);
      const median = p[p.length >> 1]!;
      const mean = p.reduce((a, b) => a + b, 0) / p.length;
      assert.ok(Math.abs(median - 0.01) < 0.002, `median ${median}`);
      assert.ok(mean > 0.008 && mean < 0.02, `mean ${mean}`);
    });
    xs.forEach((t) => t.dispose());
    concepts.dispose();
    s2.dispose();
  });

  it('l2Normalize matches x/‖x‖ and is safe at 0', () => {
    tf.tidy(() => assertClose(l2Normalize(tf.tensor2d([3, 4, 0, 0], [2, 2])).dataSync(), [0.6, 0.8, 0, 0]));
  });
});
