import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, setupBackend, expectNoLeak } from '../helpers/tf.ts';
import { ParamStore } from '../../src/model/params.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { assertSameConfig, firstDifference, loadCheckpoint, restoreCheckpoint, saveCheckpoint, CHECKPOINT_VERSION, type TrainState } from '../../src/train/checkpoint.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { UserError } from '../../src/errors.ts';

before(setupBackend);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-ckpt-'));

function model(shapeW: number[] = [2, 3]): { store: ParamStore; opt: AdamW } {
  const store = ParamStore.create();
  store.add('head.weight', tf.tensor(Array.from({ length: shapeW.reduce((a, b) => a * b, 1) }, (_, i) => i / 10), shapeW));
  store.add('text.bias', tf.tensor1d([0.5, -0.5]));
  store.add('bn.num_batches', tf.tensor1d([7], 'int32'), false);
  return { store, opt: new AdamW(store, { lr: 0.01 }) };
}
function stepOnce(m: { opt: AdamW }, name: string, g: tf.Tensor): void {
  m.opt.applyGradients(new Map([[name, g]]));
  g.dispose();
}
const state = (step: number, extra: Partial<TrainState> = {}): TrainState => ({
  version: CHECKPOINT_VERSION, step, rng: { data: { s: [1, 2, 3, 4] } }, data: { epoch: 1, cursor: 17 },
  metrics: { ema: { detection: { value: 0.5, count: 3 } }, evals: [], elapsed: 12.5 }, config: { train: { lr: 0.01, steps: 10 } }, ...extra,
});

test('save writes model/optimizer/state by name; load + restore reproduces params, moments and state', async () => {
  await expectNoLeak(() => {
    const dir = path.join(tmp, 'run1', 'checkpoint');
    const a = model();
    stepOnce(a, 'head.weight', tf.ones([2, 3]));
    stepOnce(a, 'text.bias', tf.tensor1d([1, -1]));
    saveCheckpoint(dir, { ...a, optimizer: a.opt, state: state(2) });
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.safetensors', 'optimizer.safetensors', 'state.json']);
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['checkpoint'], 'no temp dirs left');
    const opt = readSafetensors(path.join(dir, 'optimizer.safetensors')).tensors;
    assert.deepEqual([...opt.keys()].sort(), ['m.head.weight', 'm.text.bias', 'step', 't.head.weight', 't.text.bias', 'v.head.weight', 'v.text.bias']);
    assert.equal(opt.get('step')!.data[0], 2);
    assert.equal(opt.get('t.head.weight')!.data[0], 1);
    // first Adam step: m = 0.1 * g (hand-computed)
    assert.ok(Math.abs(opt.get('m.text.bias')!.data[1]! - -0.1) < 1e-7);
    const mdl = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
    assert.equal(mdl.get('bn.num_batches')!.dtype, 'I32', 'non-trainable, int param saved too');

    const b = model();
    const ck = loadCheckpoint(dir);
    assert.equal(ck.state.step, 2);
    assert.deepEqual(ck.state.data, { epoch: 1, cursor: 17 });
    assert.deepEqual(ck.state.rng, { data: { s: [1, 2, 3, 4] } });
    restoreCheckpoint(ck, { store: b.store, optimizer: b.opt });
    for (const [name, v] of a.store.entries()) assert.deepEqual([...b.store.get(name).dataSync()], [...v.dataSync()], name);
    // both continue identically
    stepOnce(a, 'head.weight', tf.fill([2, 3], 0.3));
    stepOnce(b, 'head.weight', tf.fill([2, 3], 0.3));
    assert.deepEqual([...b.store.get('head.weight').dataSync()], [...a.store.get('head.weight').dataSync()]);
    assert.equal(b.opt.step, 3);
    for (const m of [a, b]) { m.opt.dispose(); m.store.dispose(); }
  });
});

test('a failed save keeps the previous checkpoint and leaves no temp dir; re-save replaces it', async () => {
  await expectNoLeak(() => {
    const dir = path.join(tmp, 'run2', 'checkpoint');
    const a = model();
    saveCheckpoint(dir, { store: a.store, optimizer: a.opt, state: state(1) });
    const circular: Record<string, unknown> = {};
    circular.self = circular; // JSON.stringify throws after both safetensors are written
    assert.throws(() => saveCheckpoint(dir, { store: a.store, optimizer: a.opt, state: state(2, { data: circular }) }), /circular/i);
    assert.equal(loadCheckpoint(dir).state.step, 1);
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['checkpoint']);
    saveCheckpoint(dir, { store: a.store, optimizer: a.opt, state: state(3) });
    assert.equal(loadCheckpoint(dir).state.step, 3);
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['checkpoint']);
    a.opt.dispose(); a.store.dispose();
  });
});

test('one-line errors: missing dir (leftover recovered or named), not a checkpoint, wrong shape, missing/extra param, config mismatch', async () => {
  await expectNoLeak(() => {
    const dir = path.join(tmp, 'run3', 'checkpoint');
    assert.throws(() => loadCheckpoint(dir), (e: Error) => e instanceof UserError && e.message === `checkpoint directory ${dir} not found`);
    const a = model();
    saveCheckpoint(dir, { store: a.store, optimizer: a.opt, state: state(4) });
    fs.renameSync(dir, `${dir}.old-999`); // as if a save crashed between its two renames
    const rec = loadCheckpoint(dir);
    assert.equal(rec.state.step, 4);
    assert.equal(rec.recoveredFrom, `${path.resolve(dir)}.old-999`, 'the interrupted save\'s leftover is read');
    fs.writeFileSync(path.join(`${dir}.old-999`, 'model.safetensors'), 'garbage');
    assert.throws(() => loadCheckpoint(dir), /not found \(an interrupted save left a checkpoint that cannot be read: .*model\.safetensors/);
    fs.rmSync(`${dir}.old-999`, { recursive: true });
    saveCheckpoint(dir, { store: a.store, optimizer: a.opt, state: state(4) });

    fs.mkdirSync(path.join(tmp, 'empty'));
    assert.throws(() => loadCheckpoint(path.join(tmp, 'empty')), /not a detclip checkpoint \(missing model\.safetensors\)/);

    const wrong = model([3, 2]);
    assert.throws(() => restoreCheckpoint(loadCheckpoint(dir), { store: wrong.store, optimizer: wrong.opt }),
      /model\.safetensors: parameter 'head\.weight' has shape \[2,3\] in the checkpoint but the model expects \[3,2\]/);
    assert.deepEqual([...wrong.store.get('text.bias').dataSync()], [0.5, -0.5], 'nothing assigned on mismatch');
    const more = model();
    more.store.add('head.extra', tf.zeros([1]));
    assert.throws(() => restoreCheckpoint(loadCheckpoint(dir), { store: more.store }), /parameter 'head\.extra' is missing from the checkpoint/);
    const fewer = ParamStore.create();
    fewer.add('head.weight', tf.zeros([2, 3]));
    assert.throws(() => restoreCheckpoint(loadCheckpoint(dir), { store: fewer }), /the checkpoint has parameter 'text\.bias', which the model does not have/);

    const ck = loadCheckpoint(dir);
    assertSameConfig(ck, { train: { lr: 0.01, steps: 10 } });
    assert.throws(() => assertSameConfig(ck, { train: { lr: 0.02, steps: 10 } }),
      /state\.json: config mismatch at 'train\.lr': the checkpoint has 0\.01, this run has 0\.02/);
    assert.deepEqual(firstDifference({ a: [1, 2] }, { a: [1, 3] }), { path: 'a.1', saved: 2, now: 3 });
    assert.equal(firstDifference({ train: { evalEvery: 1 } }, { train: { evalEvery: 5 } }, '', ['train.evalEvery']), null);

    fs.writeFileSync(path.join(dir, 'state.json'), '{"step": 1, "version": 99}');
    assert.throws(() => loadCheckpoint(dir), /format version 99/);
    for (const m of [a, wrong, more]) { m.opt.dispose(); m.store.dispose(); }
    fewer.dispose();
  });
});
