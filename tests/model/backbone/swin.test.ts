// Swin v1 vs torchvision 0.14 (tests/fixtures/golden/swin.json): every stage/merge/final_norm of both nets and
// the shift net's per-block outputs to 1e-4; relative position index and window mask against the fixture/hand.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { assertClose, expectNoLeak, setupBackend, tf } from '../../helpers/tf.ts';
import { f32, FIXTURES, loadFixtureJson, nchwToNhwc } from '../../helpers/golden.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { SwinTransformer, type SwinConfig } from '../../../src/model/backbone/swin.ts';
import { relativePositionIndex, roll, shiftedWindowMask } from '../../../src/model/backbone/swinAttention.ts';
import { fromTorchStateDict } from '../../../src/model/layers/torchLayout.ts';
import { readSafetensors } from '../../../src/io/safetensors.ts';
import { Rng } from '../../../src/ops/rng.ts';

function build(net: 'main' | 'shift'): { store: ParamStore; model: SwinTransformer; input: tf.Tensor4D } {
  const fx = loadFixtureJson('golden/swin.json').nets[net];
  const c = fx.config;
  const cfg: SwinConfig = { patchSize: c.patch_size[0], embedDim: c.embed_dim, depths: c.depths, heads: c.num_heads, window: c.window_size[0], mlpRatio: 4, dropPath: 0.2 };
  const store = ParamStore.create();
  const model = new SwinTransformer(store.scope('backbone'), cfg, new Rng(5));
  const { tensors } = readSafetensors(path.join(FIXTURES, 'golden', fx.weights_file));
  const missing = store.scope('backbone').load(fromTorchStateDict(tensors), { where: net });
  assert.deepEqual(missing, ['out_norms.0.weight', 'out_norms.0.bias', 'out_norms.1.weight', 'out_norms.1.bias', 'out_norms.2.weight', 'out_norms.2.bias']);
  const inp = f32(fx.input);
  const [, , h, w] = inp.shape as [number, number, number, number];
  return { store, model, input: tf.tensor4d(nchwToNhwc(inp.data, inp.shape), [1, h, w, 3]) };
}

function flatOutputs(o: Record<string, unknown>, prefix = ''): [string, { shape: number[]; data: number[] }][] {
  const out: [string, { shape: number[]; data: number[] }][] = [];
  for (const [k, v] of Object.entries(o)) {
    const val = v as { shape?: number[]; data?: number[] };
    if (val.shape && val.data) out.push([prefix + k, val as { shape: number[]; data: number[] }]);
    else out.push(...flatOutputs(v as Record<string, unknown>, `${prefix}${k}.`));
  }
  return out;
}

describe('Swin Transformer (torchvision golden)', () => {
  before(setupBackend);

  for (const net of ['main', 'shift'] as const) {
    it(`${net}: every traced tensor matches torchvision to 1e-4`, () => {
      const fx = loadFixtureJson('golden/swin.json').nets[net];
      const { store, model, input } = build(net);
      tf.tidy(() => {
        const trace = model.trace(input, false);
        const refs = flatOutputs(fx.outputs).filter(([k]) => k !== 'pooled' && k !== 'logits');
        assert.ok(refs.length >= (net === 'shift' ? 17 : 9));
        for (const [name, ref] of refs) {
          const t = trace[name];
          assert.ok(t, `no traced tensor '${name}'`);
          assert.deepEqual(t.shape, ref.shape, `${name} shape`);
          assertClose(t.dataSync(), f32(ref as never).data, { rtol: 1e-4, atol: 1e-4, what: `${net} ${name}` });
        }
        // pooled = mean over H, W of final_norm (cheap to check and exercises the C5 feature)
        const pooled = tf.mean(trace.final_norm!, [1, 2]);
        assertClose(pooled.dataSync(), f32(fx.outputs.pooled).data, { rtol: 1e-4, atol: 1e-4, what: `${net} pooled` });
      });
      input.dispose();
      store.dispose();
    });
  }

  it('shift net: effective shifts match block_geometry (incl. the (0,3) case)', () => {
    const fx = loadFixtureJson('golden/swin.json').nets.shift;
    const { store, model, input } = build('shift');
    for (const g of fx.block_geometry) {
      const attn = model.stages[g.stage - 1]![g.block]!.attn;
      assert.deepEqual(attn.effectiveShift(g.padded_H, g.padded_W), g.effective_shift, `stage ${g.stage} block ${g.block}`);
    }
    input.dispose();
    store.dispose();
  });

  it('relative_position_index equals the fixture', () => {
    const ref = loadFixtureJson('golden/swin.json').relative_position_index.data as number[];
    assert.deepEqual(Array.from(relativePositionIndex(7, 7)), ref);
  });

  it('shifted-window mask by hand: 2x2 windows, shift 1 on a 4x4 map', () => {
    // Rolled 4x4 map, regions: rows [0,2)->0, [2,3)->1, [3,4)->2; same for cols. Window (1,1) covers rows/cols 2..3:
    // tokens (2,2) (2,3) (3,2) (3,3) have labels 4, 5, 7, 8: all differ -> off-diagonal -100.
    const m = shiftedWindowMask(4, 4, 2, 2, 1, 1);
    const w11 = Array.from(m.slice(3 * 16, 4 * 16));
    assert.deepEqual(w11, [0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0]);
    // Window (0,0): rows/cols 0..1 are all region 0 -> no masking.
    assert.deepEqual(Array.from(m.slice(0, 16)), new Array(16).fill(0));
    // Only the W axis shifted (sh = 0): window (0,1) has cols 2 (label 1) and 3 (label 2).
    const m2 = shiftedWindowMask(2, 4, 2, 2, 0, 1);
    assert.deepEqual(Array.from(m2.slice(16, 32)), [0, -100, 0, -100, -100, 0, -100, 0, 0, -100, 0, -100, -100, 0, -100, 0]);
  });

  it('roll matches torch.roll semantics', () => {
    const x = tf.tensor4d([0, 1, 2, 3, 4], [1, 5, 1, 1]);
    tf.tidy(() => {
      assert.deepEqual(Array.from(roll(x, -2, 1).dataSync()), [2, 3, 4, 0, 1]);
      assert.deepEqual(Array.from(roll(x, 2, 1).dataSync()), [3, 4, 0, 1, 2]);
    });
    x.dispose();
  });

  it('a batch of 2 equals its samples; detection features; training (drop path) runs; no leaks', async () => {
    const { store, model, input } = build('shift');
    const x = tf.concat([input, tf.reverse(input, 2)], 0) as tf.Tensor4D;
    await expectNoLeak(() => tf.tidy(() => {
      const both = model.forward(x, false);
      assert.deepEqual(both.C3.shape, [2, 7, 13, 16]);
      assert.deepEqual(both.C5.shape, [2, 2, 4, 64]);
      for (let i = 0; i < 2; i++) {
        const one = model.forward(tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]), false);
        for (const lvl of ['C2', 'C3', 'C4', 'C5'] as const) {
          assertClose(one[lvl].dataSync(), tf.slice(both[lvl], [i, 0, 0, 0], [1, -1, -1, -1]).dataSync(), { rtol: 1e-5, atol: 1e-5, what: lvl });
        }
      }
      const train = model.forward(x, true);
      assert.ok(train.C5.dataSync().every(Number.isFinite));
    }));
    x.dispose();
    input.dispose();
    store.dispose();
  });
});

describe('Swin-T size (torchvision published numbers)', () => {
  before(setupBackend);

  it('Swin-T: 28,288,354 params minus the 769,000 head, plus 1,344 out-norm params; 4.49 GFLOPs (MACs) at 224', () => {
    const store = ParamStore.create();
    const constant = { normal: () => 0, next: () => 0.5 }; // values are irrelevant to counting
    const m = new SwinTransformer(store, { patchSize: 4, embedDim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: 7, mlpRatio: 4, dropPath: 0.2 }, constant);
    assert.equal(store.count(), 28288354 - (768 * 1000 + 1000) + 2 * (96 + 192 + 384));
    // torchvision's table: 4.49 (multiply-adds, classifier included: 768·1000)
    const macs = m.macs(224, 224).macs + 768 * 1000;
    assert.ok(Math.abs(macs / 1e9 - 4.49) < 0.005, `${macs}`);
    store.dispose();
  });
});
