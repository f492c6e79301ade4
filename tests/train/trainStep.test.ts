import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak } from '../helpers/tf.ts';
import { buildDetClip } from '../../src/model/detclip.ts';
import { resolveRecipe } from '../../src/train/recipe.ts';
import { computeGradients, lossConfigFrom } from '../../src/train/trainStep.ts';
import type { Batch, SampleKind } from '../../src/data/types.ts';
import { Rng } from '../../src/ops/rng.ts';

before(setupBackend);

const SMALL = ['model.text.width=16', 'model.text.heads=2', 'model.text.layers=1', 'model.text.outputDim=16', 'model.head.embedDim=16',
  'model.fpn.outChannels=16', 'model.head.gnGroups=4', 'model.head.towerConvs=1'];

function batch(kind: SampleKind, size = 64, b = 2): Batch {
  const rng = new Rng(7);
  const pixels = Float32Array.from({ length: b * size * size * 3 }, () => rng.normal());
  const concepts = ['red six', 'a coat', 'blue bag', 'a red six above a coat'];
  return {
    kind, height: size, width: size, pixels,
    imageSizes: Array.from({ length: b }, () => [size, size] as [number, number]),
    boxes: kind === 'imageText' ? [new Float32Array(0), new Float32Array(0)] : [new Float32Array([4, 4, 30, 30]), new Float32Array([20, 10, 60, 50, 2, 2, 20, 20])],
    boxLabels: kind === 'imageText' ? [new Int32Array(0), new Int32Array(0)] : [new Int32Array([0]), new Int32Array([1, 2])],
    concepts,
    imageConcepts: kind === 'imageText' ? [[0, 1, 3], [2]] : [[0, 1, 2], [0, 1, 2]],
  } as Batch;
}

test('one step of each data kind: the right named losses, finite gradients, no leaks', async () => {
  const r = resolveRecipe('tiny', SMALL);
  const model = buildDetClip(r.model, 1);
  const lc = lossConfigFrom(r.train);
  const expected: Record<SampleKind, string[]> = {
    detection: ['align', 'giou', 'center', 'total'], grounding: ['align', 'total'], imageText: ['contrastive', 'total'],
  };
  for (const kind of ['detection', 'grounding', 'imageText'] as const) {
    await expectNoLeak(() => {
      const { losses, grads } = computeGradients(model, batch(kind), lc);
      assert.deepEqual(Object.keys(losses).sort(), [...expected[kind]].sort(), kind);
      for (const [k, v] of Object.entries(losses)) assert.ok(Number.isFinite(v), `${kind} ${k} = ${v}`);
      const names = [...grads.keys()];
      // text tower and the DCN-fed classification path get gradients from every kind
      assert.ok(names.some((n) => n.startsWith('text.token_embedding')), `${kind}: text embedding gradient`);
      assert.ok(names.some((n) => n.startsWith('backbone.')), `${kind}: backbone gradient`);
      for (const [n, g] of grads) assert.ok((g.dataSync() as Float32Array).every(Number.isFinite), `${kind}: ${n} gradient finite`);
      // weighted total: align + 2 giou + center (detection), 0.1 contrastive (pairs)
      const want = kind === 'detection' ? losses.align! + 2 * losses.giou! + losses.center! : kind === 'grounding' ? losses.align! : 0.1 * losses.contrastive!;
      assert.ok(Math.abs(losses.total! - want) < 1e-4 * Math.max(1, want), `${kind}: total ${losses.total} vs ${want}`);
      tf.dispose([...grads.values()]);
    });
  }
  model.dispose();
});

test('grounding has no localisation loss; with DCN its alignment gradient still reaches the regression tower', () => {
  const regOut = /^head\.(atss_reg|atss_centerness|scales)\./;
  const regTower = /^head\.reg_convs\./;
  for (const useDcn of [false, true]) {
    const r = resolveRecipe('tiny', [...SMALL, `model.head.useDcn=${useDcn}`]);
    const model = buildDetClip(r.model, 1);
    const all = model.store.entries().map(([n]) => n);
    assert.ok(all.some((n) => regOut.test(n)) && all.some((n) => regTower.test(n)), 'regression parameters exist');
    const { grads } = computeGradients(model, batch('grounding'), lossConfigFrom(r.train));
    const names = [...grads.keys()];
    assert.deepEqual(names.filter((n) => regOut.test(n)), [], `useDcn=${useDcn}: no gradient to box/centerness outputs`);
    assert.equal(names.some((n) => regTower.test(n)), useDcn, `useDcn=${useDcn}: regression tower gradient only through DCN`);
    tf.dispose([...grads.values()]);
    model.dispose();
  }
});

test('lossConfigFrom carries the focal parameters of the training config (default ATSS 0.25 / 2)', () => {
  assert.deepEqual(lossConfigFrom(resolveRecipe('tiny').train).focal, { alpha: 0.25, gamma: 2 });
  assert.deepEqual(lossConfigFrom(resolveRecipe('tiny', ['focal.gamma=1', 'focal.alpha=0.5']).train).focal, { alpha: 0.5, gamma: 1 });
});
