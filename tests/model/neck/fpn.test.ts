// FPN: with identity laterals and identity 3×3 output convs, P_l = C_l + nearest-up(P_{l+1}) computed by hand.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, expectNoLeak, setupBackend, tf } from '../../helpers/tf.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { Fpn } from '../../../src/model/neck/fpn.ts';
import { Rng } from '../../../src/ops/rng.ts';

/** Nearest upsampling NHWC (B=1) from [h, w] to [H, W] the torch way: src = floor(dst · in/out). */
function upNearest(x: number[], [h, w, c]: number[], H: number, W: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < H; y++)
    for (let xx = 0; xx < W; xx++) {
      const sy = Math.floor((y * h) / H);
      const sx = Math.floor((xx * w) / W);
      for (let ch = 0; ch < c; ch++) out.push(x[(sy * w + sx) * c + ch]!);
    }
  return out;
}

describe('FPN', () => {
  before(setupBackend);

  it('top-down pathway by hand (odd sizes: 7x5 <- 4x3 <- 2x2), mmdet names, extra levels', async () => {
    const store = ParamStore.create();
    const c = 2;
    const fpn = new Fpn(store.scope('neck'), { inChannels: [c, c, c], outChannels: c, extraLevels: 2 }, new Rng(3));
    assert.deepEqual(fpn.strides, [8, 16, 32, 64, 128]);
    assert.ok(store.has('neck.lateral_convs.2.conv.weight') && store.has('neck.fpn_convs.4.conv.bias'));
    tf.tidy(() => {
      for (let i = 0; i < 3; i++) {
        store.get(`neck.lateral_convs.${i}.conv.weight`).assign(tf.reshape(tf.eye(c), [1, 1, c, c]));
        const id3 = tf.buffer([3, 3, c, c]);
        for (let ch = 0; ch < c; ch++) id3.set(1, 1, 1, ch, ch);
        store.get(`neck.fpn_convs.${i}.conv.weight`).assign(id3.toTensor());
      }
    });
    const sizes = [[7, 5], [4, 3], [2, 2]] as const;
    const data = sizes.map(([h, w], i) => Array.from({ length: h * w * c }, (_, n) => Math.sin(n * (i + 1)) * (i + 1)));
    const ins = sizes.map(([h, w], i) => tf.tensor4d(data[i]!, [1, h, w, c]));
    const p5 = data[2]!;
    const p4 = data[1]!.map((v, n) => v + upNearest(p5, [2, 2, c], 4, 3)[n]!);
    const p3 = data[0]!.map((v, n) => v + upNearest(p4, [4, 3, c], 7, 5)[n]!);
    await expectNoLeak(() => tf.tidy(() => {
      const outs = fpn.forward({ C3: ins[0]!, C4: ins[1]!, C5: ins[2]! });
      assert.deepEqual(outs.map((o) => o.shape.slice(1, 3)), [[7, 5], [4, 3], [2, 2], [1, 1], [1, 1]]);
      assert.deepEqual(fpn.levelSizes([[7, 5], [4, 3], [2, 2]]), [[7, 5], [4, 3], [2, 2], [1, 1], [1, 1]]);
      assertClose(outs[0]!.dataSync(), p3, { what: 'P3' });
      assertClose(outs[1]!.dataSync(), p4, { what: 'P4' });
      assertClose(outs[2]!.dataSync(), p5, { what: 'P5' });
    }));
    ins.forEach((t) => t.dispose());
    store.dispose();
  });

  it('MAC count by hand', () => {
    const store = ParamStore.create();
    const fpn = new Fpn(store, { inChannels: [8, 16, 32], outChannels: 4, extraLevels: 1 }, new Rng(3));
    // laterals 1×1: 16·8·4 + 4·16·4 + 1·32·4; outputs 3×3: (16 + 4 + 1)·9·4·4; P6 on 1×1 -> 1×1: 9·4·4
    assert.equal(fpn.macs([[4, 4], [2, 2], [1, 1]]), 16 * 8 * 4 + 4 * 16 * 4 + 32 * 4 + 21 * 144 + 144);
    store.dispose();
  });
});
