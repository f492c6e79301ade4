// variableGrads (frees dys and saved tensors during backward) gives exactly tf.variableGrads' values and grads,
// on a real model step.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectNoLeak, setupBackend, tf } from '../helpers/tf.ts';
import { variableGrads } from '../../src/train/variableGrads.ts';
import { buildDetClip } from '../../src/model/detclip.ts';
import { resolveRecipe } from '../../src/train/recipe.ts';
import { tokenize } from '../../src/model/text/tokenizer.ts';

before(setupBackend);

const SMALL = ['model.text.width=16', 'model.text.heads=2', 'model.text.layers=1', 'model.text.outputDim=16', 'model.head.embedDim=16',
  'model.fpn.outChannels=16', 'model.head.gnGroups=4', 'model.head.towerConvs=1'];

test('same value and gradients as tf.variableGrads (tiny DetCLIP image + text forward); no leaks', async () => {
  const model = buildDetClip(resolveRecipe('tiny', SMALL).model, 1);
  const vars = model.store.entries({ trainableOnly: true }).map(([, v]) => v);
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const ids = tf.tensor2d(tokenize(['red six', 'a coat'], model.cfg.text.contextLength), [2, model.cfg.text.contextLength], 'int32');
  const loss = (): tf.Scalar => {
    const enc = model.image.encodeImage(x, true);
    const logits = model.image.similarityLogits(enc.regionEmbeddings, model.text.forward(ids));
    // a sum of two paths that share tensors (the same dy reaches them twice) and a pass-through op
    return tf.add(tf.mean(tf.sigmoid(logits)), tf.mean(tf.mul(enc.ltrb, tf.reshape(enc.centerness, [2, -1, 1])))) as tf.Scalar;
  };
  const ref = tf.variableGrads(loss, vars);
  await expectNoLeak(() => {
    const ours = variableGrads(loss, vars);
    assert.equal(ours.value.dataSync()[0], ref.value.dataSync()[0]);
    assert.deepEqual(Object.keys(ours.grads).sort(), Object.keys(ref.grads).sort());
    for (const [k, g] of Object.entries(ours.grads)) assert.deepEqual(g.dataSync(), ref.grads[k]!.dataSync(), k);
    tf.dispose([ours.value, ...Object.values(ours.grads)]);
  });
  tf.dispose([ref.value, ...Object.values(ref.grads), x, ids]);
  model.dispose();
});

test('a variable that f does not use gets no gradient; non-scalar f is refused without leaking', async () => {
  const a = tf.variable(tf.scalar(2));
  const unused = tf.variable(tf.scalar(5));
  const { value, grads } = variableGrads(() => tf.mul(a, a) as tf.Scalar, [a, unused]);
  assert.equal(value.dataSync()[0], 4);
  assert.deepEqual(Object.keys(grads), [a.name]);
  assert.equal(grads[a.name]!.dataSync()[0], 4);
  await expectNoLeak(() => assert.throws(() => variableGrads(() => tf.mul(a, tf.ones([2])) as unknown as tf.Scalar, [a]), /scalar/));
  tf.dispose([a, unused, value, ...Object.values(grads)]);
});
