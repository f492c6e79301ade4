// The image encoder end to end on the tiny preset: shapes, anchors, boxes = decode(points, ltrb), batching, leaks.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, expectNoLeak, setupBackend, tf } from '../helpers/tf.ts';
import { ParamStore } from '../../src/model/params.ts';
import { ImageEncoder } from '../../src/model/imageEncoder.ts';
import { resolveModelConfig } from '../../src/config/model.ts';
import { Rng } from '../../src/ops/rng.ts';

describe('ImageEncoder (tiny preset)', () => {
  before(setupBackend);

  it('encodeImage: shapes, anchors (cached), boxes from anchor points and ltrb; a batch equals its samples; no leak', async () => {
    const cfg = resolveModelConfig('tiny');
    const store = ParamStore.create();
    const enc = new ImageEncoder(store, cfg, new Rng(1));
    const x = tf.randomNormal([2, 128, 96, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    await expectNoLeak(() => tf.tidy(() => {
      const out = enc.encodeImage(x, false);
      assert.deepEqual(out.levels, [8, 16, 32]);
      assert.deepEqual(out.featureSizes, [[16, 12], [8, 6], [4, 3]]);
      const k = 16 * 12 + 8 * 6 + 4 * 3;
      assert.deepEqual(out.regionEmbeddings.shape, [2, k, 64]);
      assert.deepEqual(out.boxes.shape, [2, k, 4]);
      assert.deepEqual(out.ltrb.shape, [2, k, 4]);
      assert.deepEqual(out.centerness.shape, [2, k]);
      assert.deepEqual(out.anchors.numPerLevel, [192, 48, 12]);
      // anchor 13 = level 0, row 1, col 1: centre (12, 12), stride 8; last anchor: level 2 (4, 3) -> centre (80, 112)
      assert.deepEqual(Array.from(out.anchors.points.slice(26, 28)), [12, 12]);
      assert.deepEqual(Array.from(out.anchors.points.slice(2 * k - 2)), [80, 112]);
      assert.deepEqual(Array.from(out.anchors.boxes.slice(4 * k - 4)), [80 - 128, 112 - 128, 80 + 128, 112 + 128]);
      assert.equal(enc.encodeImage(x, false).anchors, out.anchors, 'anchors cached per input size');
      // boxes = (px - l, py - t, px + r, py + b), computed here by hand
      const ltrb = out.ltrb.dataSync();
      const pts = out.anchors.points;
      const ref = new Float32Array(2 * k * 4);
      for (let b = 0; b < 2; b++)
        for (let a = 0; a < k; a++) {
          const o = (b * k + a) * 4;
          ref.set([pts[2 * a]! - ltrb[o]!, pts[2 * a + 1]! - ltrb[o + 1]!, pts[2 * a]! + ltrb[o + 2]!, pts[2 * a + 1]! + ltrb[o + 3]!], o);
        }
      assertClose(out.boxes.dataSync(), ref, { what: 'boxes' });
      for (let b = 0; b < 2; b++) {
        const one = enc.encodeImage(tf.slice(x, [b, 0, 0, 0], [1, -1, -1, -1]), false);
        assertClose(one.regionEmbeddings.dataSync(), tf.slice(out.regionEmbeddings, [b, 0, 0], [1, -1, -1]).dataSync(), { rtol: 1e-4, atol: 1e-5, what: 'embeddings' });
        assertClose(one.boxes.dataSync(), tf.slice(out.boxes, [b, 0, 0], [1, -1, -1]).dataSync(), { rtol: 1e-4, atol: 1e-4, what: 'boxes' });
        assertClose(one.centerness.dataSync(), tf.slice(out.centerness, [b, 0], [1, -1]).dataSync(), { rtol: 1e-4, atol: 1e-5, what: 'centerness' });
      }
    }));
    // parameters under backbone./neck./head.; the tiny preset's image side is about a million
    const total = store.count();
    assert.equal(total, store.scope('backbone').count() + store.scope('neck').count() + store.scope('head').count());
    assert.ok(total > 5e5 && total < 2e6, `${total}`);
    assert.deepEqual(enc.featureSizes(128, 128), [[16, 16], [8, 8], [4, 4]]);
    x.dispose();
    store.dispose();
  });

  it('a training step: every trainable parameter gets a finite gradient (through the per-block tidies); no leak', async () => {
    const store = ParamStore.create();
    const enc = new ImageEncoder(store, resolveModelConfig('tiny'), new Rng(5));
    const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const concepts = tf.randomNormal([5, 64], 0, 1, 'float32', 7) as tf.Tensor2D;
    const vars = store.entries({ trainableOnly: true });
    await expectNoLeak(() => {
      const { value, grads } = tf.variableGrads(() => {
        const e = enc.encodeImage(x, true);
        return tf.addN([tf.mean(tf.sigmoid(enc.similarityLogits(e.regionEmbeddings, concepts))), tf.mean(tf.log1p(e.ltrb)), tf.mean(e.centerness)]) as tf.Scalar;
      }, vars.map(([, v]) => v));
      for (const [name, v] of vars) {
        const g = grads[v.name];
        assert.ok(g, `no gradient for ${name}`);
        assert.ok(g.dataSync().every(Number.isFinite), `non-finite gradient for ${name}`);
      }
      assert.ok(Number.isFinite(value.dataSync()[0]!));
      tf.dispose([value, ...Object.values(grads)]);
    });
    x.dispose();
    concepts.dispose();
    store.dispose();
  });

  it('paper-size presets predict their FPN sizes exactly (r50 with P6/P7 at 800x1333)', () => {
    const store = ParamStore.create();
    const constant = { normal: () => 0, next: () => 0.5 };
    const enc = new ImageEncoder(store, resolveModelConfig('r50'), constant);
    // 800x1333: stem 400x667 -> pool 200x334 -> C3 100x167, C4 50x84, C5 25x42, P6 13x21, P7 7x11
    assert.deepEqual(enc.featureSizes(800, 1333), [[100, 167], [50, 84], [25, 42], [13, 21], [7, 11]]);
    assert.equal(enc.anchorsFor(800, 1333).anchors.strides.length, 100 * 167 + 50 * 84 + 25 * 42 + 13 * 21 + 7 * 11);
    store.dispose();
  });

  it('useDcn false (the ablation) and a Swin backbone run through the same encoder', async () => {
    for (const over of [{ head: { useDcn: false } }, { backbone: { type: 'swin', patchSize: 4, embedDim: 16, depths: [1, 1, 1, 1], heads: [1, 2, 2, 4], window: 7, mlpRatio: 2, dropPath: 0 } }]) {
      const store = ParamStore.create();
      const enc = new ImageEncoder(store, resolveModelConfig('tiny', over), new Rng(3));
      const x = tf.randomNormal([1, 96, 64, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      await expectNoLeak(() => tf.tidy(() => {
        const out = enc.encodeImage(x, true);
        assert.deepEqual(out.regionEmbeddings.shape, [1, 12 * 8 + 6 * 4 + 3 * 2, 64]);
      }));
      x.dispose();
      store.dispose();
    }
  });
});
