import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { decodeLtrb, encodeLtrb } from '../../src/ops/boxCoder.ts';

describe('ltrb box coder', () => {
  before(setupBackend);

  // point (10, 10) in box [4, 6, 20, 30]: l = 6, t = 4, r = 10, b = 20; point (50, 40) in [30, 35, 70, 41]: 20, 5, 20, 1
  const points = [[10, 10], [50, 40]];
  const boxes = [[4, 6, 20, 30], [30, 35, 70, 41]];
  const ltrb = [6, 4, 10, 20, 20, 5, 20, 1];

  it('encodes to side distances, optionally per-anchor or scalar stride (hand values)', async () => {
    await expectNoLeak(async () => {
      const p = tf.tensor2d(points);
      const b = tf.tensor2d(boxes);
      const s = tf.tensor1d([2, 4]);
      const e = encodeLtrb(p, b);
      const es = encodeLtrb(p, b, s);
      const e8 = encodeLtrb(p, b, 8);
      assert.deepEqual(e.shape, [2, 4]);
      assertClose(await e.data(), ltrb, { what: 'ltrb' });
      assertClose(await es.data(), [3, 2, 5, 10, 5, 1.25, 5, 0.25], { what: 'ltrb / stride' });
      assertClose(await e8.data(), ltrb.map((v) => v / 8), { what: 'ltrb / 8' });
      tf.dispose([p, b, s, e, es, e8]);
    });
  });

  it('decodes back to xyxy (with and without strides) and works with a batch dim', async () => {
    await expectNoLeak(async () => {
      const p = tf.tensor2d(points);
      const d = tf.tensor2d(ltrb, [2, 4]);
      const dec = decodeLtrb(p, d);
      const strides = tf.tensor1d([2, 4]);
      const scaled = tf.tensor2d([3, 2, 5, 10, 5, 1.25, 5, 0.25], [2, 4]);
      const decS = decodeLtrb(p, scaled, strides);
      assertClose(await dec.data(), boxes.flat(), { what: 'decode' });
      assertClose(await decS.data(), boxes.flat(), { what: 'decode with strides' });
      const p3 = p.expandDims(0);
      const d3 = d.expandDims(0);
      const dec3 = decodeLtrb(p3, d3);
      assert.deepEqual(dec3.shape, [1, 2, 4]);
      assertClose(await dec3.data(), boxes.flat(), { what: 'decode [1, K, 4]' });
      tf.dispose([p, d, dec, strides, scaled, decS, p3, d3, dec3]);
    });
  });

  it('decode is differentiable in distances and points (hand gradients)', async () => {
    await expectNoLeak(async () => {
      const p = tf.tensor2d(points);
      const d = tf.tensor2d(ltrb, [2, 4]);
      const w = tf.tensor2d([[1, 2, 3, 4], [-1, 0, 0.5, 2]]); // L = sum(decode * w)
      // x1 = px - l, y1 = py - t, x2 = px + r, y2 = py + b
      // dL/d(l,t,r,b) = (-w0, -w1, w2, w3); dL/dpx = w0 + w2, dL/dpy = w1 + w3
      const [gp, gd] = tf.grads((pp: tf.Tensor, dd: tf.Tensor) => decodeLtrb(pp, dd).mul(w).sum())([p, d]);
      assertClose(await gd!.data(), [-1, -2, 3, 4, 1, -0, 0.5, 2], { what: 'd/d distances' });
      assertClose(await gp!.data(), [4, 6, -0.5, 2], { what: 'd/d points' });
      tf.dispose([p, d, w, gp!, gd!]);
    });
  });
});
