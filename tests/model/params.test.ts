import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak } from '../helpers/tf.ts';
import { ParamStore } from '../../src/model/params.ts';

before(setupBackend);

test('ParamStore scopes, counts, loads by name and disposes', async () => {
  await expectNoLeak(() => {
    const root = ParamStore.create();
    const a = root.scope('backbone');
    a.add('conv.weight', tf.zeros([2, 3]));
    a.scope('bn').add('running_mean', tf.zeros([3]), false);
    root.scope('head').add('bias', tf.zeros([1]));
    assert.deepEqual(root.entries().map(([k]) => k), ['backbone.conv.weight', 'backbone.bn.running_mean', 'head.bias']);
    assert.equal(root.count(), 10);
    assert.equal(root.count({ trainableOnly: true }), 7);
    assert.equal(a.entries().length, 2);
    const missing = a.load(new Map([['conv.weight', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }]]));
    assert.deepEqual(missing, ['bn.running_mean']);
    assert.deepEqual([...a.get('conv.weight').dataSync()], [1, 2, 3, 4, 5, 6]);
    assert.throws(() => a.load(new Map([['conv.weight', { shape: [3, 2], data: new Float32Array(6) }]])), /shape \[3,2\] but the model expects \[2,3\]/);
    assert.throws(() => a.add('conv.weight', tf.zeros([1])), /already exists/);
    root.dispose();
    assert.equal(root.entries().length, 0);
  });
});
