import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, setupBackend, expectNoLeak } from '../helpers/tf.ts';
import { buildDetClip, loadModelDir, saveModelDir } from '../../src/model/detclip.ts';
import { resolveRecipe } from '../../src/train/recipe.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';

before(setupBackend);
const SMALL = ['model.text.width=16', 'model.text.heads=2', 'model.text.layers=1', 'model.text.outputDim=16', 'model.head.embedDim=16',
  'model.fpn.outChannels=16', 'model.head.gnGroups=4', 'model.head.towerConvs=1'];

test('buildDetClip is seeded; a model dir round-trips weights, config and extra settings', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-model-'));
  const cfg = resolveRecipe('tiny', SMALL).model;
  await expectNoLeak(() => {
    const a = buildDetClip(cfg, 3);
    const b = buildDetClip(cfg, 3);
    const c = buildDetClip(cfg, 4);
    const first = (m: typeof a): Float32Array => m.store.get('head.region_embed.weight').dataSync() as Float32Array;
    assert.deepEqual(first(a), first(b));
    assert.notDeepEqual(first(a), first(c));
    saveModelDir(dir, a, { inference: { enrich: false } });
    const { model, extra } = loadModelDir(dir);
    assert.deepEqual(model.cfg, cfg);
    assert.deepEqual(extra, { inference: { enrich: false } });
    for (const [name, v] of a.store.entries()) {
      assert.deepEqual(model.store.get(name).dataSync(), v.dataSync(), name);
    }
    for (const m of [a, b, c, model]) m.dispose();
  });
});

test('loadModelDir: one clear error for a missing dir, missing files, bad JSON, wrong shapes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-model-'));
  assert.throws(() => loadModelDir(path.join(dir, 'nope')), /nope: weights directory not found/);
  assert.throws(() => loadModelDir(dir), /config\.json: missing/);
  const cfg = resolveRecipe('tiny', SMALL).model;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model: cfg }));
  assert.throws(() => loadModelDir(dir), /model\.safetensors: missing/);
  writeSafetensors(path.join(dir, 'model.safetensors'), { 'head.logit_scale': { shape: [2], data: [1, 2] } });
  fs.writeFileSync(path.join(dir, 'config.json'), '{"model": ');
  assert.throws(() => loadModelDir(dir), /config\.json: not valid JSON/);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model: { ...cfg, head: { ...cfg.head, embedDm: 3 } } }));
  assert.throws(() => loadModelDir(dir), /unknown key 'head\.embedDm' \(did you mean 'embedDim'\?\)/);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model: cfg }));
  const before = tf.memory().numTensors;
  assert.throws(() => loadModelDir(dir), /tensor 'head\.logit_scale' has shape \[2\] but the model expects \[\]/);
  assert.equal(tf.memory().numTensors, before, 'a failed load frees the half-built model');
});
