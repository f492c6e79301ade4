// deformConv2d against torchvision.ops.deform_conv2d fixtures (tests/fixtures/golden/deform_conv2d.json):
// output and the gradients of L = sum(out * R) w.r.t. input, offset, mask, weight and bias.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, expectNoLeak, setupBackend, tf } from '../helpers/tf.ts';
import { f32, loadFixtureJson, nchwToNhwc, type JsonTensor } from '../helpers/golden.ts';
import { deformConv2d } from '../../src/ops/deformConv2d.ts';

interface Case {
  params: { kernel: number[]; stride: number[]; padding: number[]; dilation: number[]; offset_groups: number };
  [k: string]: any;
}
const cases = loadFixtureJson<{ cases: Record<string, Case> }>('golden/deform_conv2d.json').cases;

/** NCHW fixture tensor -> NHWC tf tensor. */
const nhwc = (t: JsonTensor) => tf.tensor4d(nchwToNhwc(f32(t).data, t.shape), [t.shape[0]!, t.shape[2]!, t.shape[3]!, t.shape[1]!]);
/** OIHW -> HWIO. */
const hwio = (t: JsonTensor) => tf.tidy(() => tf.transpose(tf.tensor4d(f32(t).data, t.shape as [number, number, number, number]), [2, 3, 1, 0]) as tf.Tensor4D);
const toNhwcData = (t: JsonTensor) => nchwToNhwc(f32(t).data, t.shape);
const hwioData = (t: JsonTensor) => tf.tidy(() => hwio(t).dataSync());

function optsOf(c: Case) {
  const p = c.params;
  return {
    stride: p.stride as [number, number],
    padding: p.padding as [number, number],
    dilation: p.dilation as [number, number],
    offsetGroups: p.offset_groups,
  };
}

describe('deformConv2d (torchvision fixtures)', () => {
  before(async () => {
    await setupBackend();
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: output`, () => {
      tf.tidy(() => {
        const out = deformConv2d(nhwc(c.input), nhwc(c.offset), nhwc(c.mask), hwio(c.weight), tf.tensor1d(f32(c.bias).data), optsOf(c));
        assertClose(out.dataSync(), toNhwcData(c.output), { rtol: 1e-4, atol: 1e-5, what: `${name} output` });
      });
    });
    if (!c.grad_input) continue;
    it(`${name}: gradients of sum(out * R)`, () => {
      tf.tidy(() => {
        const R = nhwc(c.R);
        const f = (x: tf.Tensor, o: tf.Tensor, m: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(deformConv2d(x as tf.Tensor4D, o as tf.Tensor4D, m as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, optsOf(c)), R));
        const [gx, go, gm, gw, gb] = tf.grads(f)([nhwc(c.input), nhwc(c.offset), nhwc(c.mask), hwio(c.weight), tf.tensor1d(f32(c.bias).data)]);
        const tol = { rtol: 1e-4, atol: 5e-5 };
        assertClose(gx!.dataSync(), toNhwcData(c.grad_input), { ...tol, what: `${name} grad_input` });
        assertClose(go!.dataSync(), toNhwcData(c.grad_offset), { ...tol, what: `${name} grad_offset` });
        assertClose(gm!.dataSync(), toNhwcData(c.grad_mask), { ...tol, what: `${name} grad_mask` });
        assertClose(gw!.dataSync(), hwioData(c.grad_weight), { ...tol, what: `${name} grad_weight` });
        assertClose(gb!.dataSync(), f32(c.grad_bias).data, { ...tol, what: `${name} grad_bias` });
      });
    });
  }

  it('zero offsets and mask 1 equal tf.conv2d (output and gradients), stride 2, no bias', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 9, 8, 6], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 6, 5], 0, 0.3, 'float32', 2) as tf.Tensor4D;
      const R = tf.randomNormal([2, 5, 4, 5], 0, 1, 'float32', 3);
      const off = tf.zeros([2, 5, 4, 18]) as tf.Tensor4D;
      const m = tf.ones([2, 5, 4, 9]) as tf.Tensor4D;
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
      const dcn = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(deformConv2d(a as tf.Tensor4D, off, m, b as tf.Tensor4D, null, { stride: 2, padding: 1 }), R));
      const conv = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, pad), R));
      const out = deformConv2d(x, off, m, w, null, { stride: 2, padding: 1 });
      assertClose(out.dataSync(), tf.conv2d(x, w, 2, pad).dataSync(), { rtol: 1e-4, atol: 1e-5, what: 'output' });
      const [gx, gw] = tf.grads(dcn)([x, w]);
      const [cx, cw] = tf.grads(conv)([x, w]);
      assertClose(gx!.dataSync(), cx!.dataSync(), { rtol: 1e-4, atol: 1e-5, what: 'grad x' });
      assertClose(gw!.dataSync(), cw!.dataSync(), { rtol: 1e-4, atol: 1e-4, what: 'grad w' });
    });
  });

  it('1x1 kernel on an all-ones 3x3 image: dy = -1, -0.5, 2.5, 3 sample 0, 0.5, 0.5, 0 (README)', () => {
    tf.tidy(() => {
      const x = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
      const w = tf.ones([1, 1, 1, 1]) as tf.Tensor4D;
      const m = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
      for (const [dy, want] of [[-1, 0], [-0.5, 0.5], [2.5, 0.5], [3, 0]] as const) {
        // Output row 0 with dy; rows 1, 2 shifted to the same absolute y so every output equals `want`.
        const off = tf.tensor4d(Array.from({ length: 9 }, (_, i) => [dy - Math.floor(i / 3), 0]).flat(), [1, 3, 3, 2]);
        const out = deformConv2d(x, off, m, w, null).dataSync();
        assertClose(out, new Float32Array(9).fill(want), { what: `dy=${dy}` });
      }
    });
  });

  it('infers offset groups, validates shapes, and leaks no tensors (forward and backward)', async () => {
    const x = tf.randomNormal([1, 5, 5, 4]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 4, 2]) as tf.Tensor4D;
    const b = tf.zeros([2]) as tf.Tensor1D;
    const off = tf.randomNormal([1, 5, 5, 36]) as tf.Tensor4D; // 2 groups
    const m = tf.ones([1, 5, 5, 18]) as tf.Tensor4D;
    assert.deepEqual(tf.tidy(() => deformConv2d(x, off, m, w, b, { padding: 1 }).shape), [1, 5, 5, 2]);
    assert.throws(() => deformConv2d(x, off, m, w, b, { padding: 0 }), /offset is \[1,5,5,36\], expected \[1,3,3,36\]/);
    assert.throws(() => deformConv2d(x, off, m, w, b, { padding: 1, offsetGroups: 3 }), /offset groups 3/);
    await expectNoLeak(() => {
      deformConv2d(x, off, m, w, b, { padding: 1 }).dispose();
      const gs = tf.grads((a: tf.Tensor, o: tf.Tensor, mm: tf.Tensor, ww: tf.Tensor) =>
        tf.sum(deformConv2d(a as tf.Tensor4D, o as tf.Tensor4D, mm as tf.Tensor4D, ww as tf.Tensor4D, b, { padding: 1 })),
      )([x, off, m, w]);
      assert.deepEqual(gs.map((g) => g.shape), [x.shape, off.shape, m.shape, w.shape]);
      tf.dispose(gs);
    });
    tf.dispose([x, w, b, off, m]);
  });
});
