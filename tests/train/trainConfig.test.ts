import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { preset, trainConfigSchema, PRESET_NAMES } from '../../src/train/trainConfig.ts';
import { applyOverrides, parseOverride, parseOverrideValue, resolveTrainConfig } from '../../src/train/configOverrides.ts';
import { UserError } from '../../src/errors.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-cfg-'));

test('presets validate and carry the paper numbers', () => {
  for (const n of PRESET_NAMES) assert.ok(trainConfigSchema.safeParse(preset(n)).success, n);
  const t = preset('t');
  assert.equal(t.train.lr, 2.8e-4);
  assert.equal(preset('l').train.lr, 4e-4);
  assert.equal(t.train.warmup, 1000);
  assert.equal(t.train.weightDecay, 0.05);
  assert.equal(t.train.textLrMult, 0.1);
  assert.deepEqual(t.loss, { align: 1, giou: 2, center: 1, contrastive: 0.1 });
  assert.deepEqual([t.data.detection.maxSide, t.data.detection.shortSide, t.data.detection.batchSize], [1333, 800, 128]);
  assert.equal(preset('l').data.detection.batchSize, 256);
  assert.deepEqual([t.data.imageText.shortSide, t.data.imageText.batchSize], [320, 6144]);
  assert.deepEqual([t.data.detection.negatives, t.data.grounding.negatives], [150, 100]);
  assert.deepEqual({ k: t.imageText.k, mode: t.imageText.mode, tau: t.imageText.tau, ls: t.imageText.labelSmoothing, sym: t.imageText.symmetric },
    { k: 100, mode: '1to1', tau: 0.5, ls: 0.1, sym: false });
  const tiny = preset('tiny');
  assert.equal(tiny.data.detection.shortSide, 128);
  assert.equal(tiny.data.imageText.shortSide, 64);
  tiny.train.lr = 5; // presets are fresh copies
  assert.notEqual(preset('tiny').train.lr, 5);
});

test('override values: numbers, booleans, null, JSON, strings', () => {
  assert.equal(parseOverrideValue('1e-3'), 1e-3);
  assert.equal(parseOverrideValue('-2'), -2);
  assert.equal(parseOverrideValue('.5'), 0.5);
  assert.equal(parseOverrideValue('true'), true);
  assert.equal(parseOverrideValue('null'), null);
  assert.deepEqual(parseOverrideValue('[0.9, 0.98]'), [0.9, 0.98]);
  assert.equal(parseOverrideValue('1toMany'), '1toMany');
  assert.deepEqual(parseOverride('a.b.c= 3'), { path: ['a', 'b', 'c'], value: 3 });
  assert.throws(() => parseOverride('train.lr'), UserError);
  assert.throws(() => parseOverride('train..lr=1'), /dotted key/);
});

test('applyOverrides sets dotted paths and validates each override', () => {
  const c = applyOverrides(preset('tiny'), ['train.lr=1e-3', 'data.imageText.batchSize=16', 'imageText.mode=1toMany',
    'imageText.symmetric=true', 'train.gradClip=null', 'train.betas=[0.9,0.98]']);
  assert.equal(c.train.lr, 1e-3);
  assert.equal(c.data.imageText.batchSize, 16);
  assert.equal(c.imageText.mode, '1toMany');
  assert.equal(c.imageText.symmetric, true);
  assert.equal(c.train.gradClip, null);
  assert.deepEqual(c.train.betas, [0.9, 0.98]);
  assert.throws(() => applyOverrides(preset('tiny'), ['train.lrr=1']), (e: Error) =>
    e instanceof UserError && /override 'train.lrr=1': unknown key 'train.lrr' \(did you mean 'lr'\?\)/.test(e.message));
  assert.throws(() => applyOverrides(preset('tiny'), ['train.lr=abc']), /override 'train.lr=abc': 'train.lr'/);
  assert.throws(() => applyOverrides(preset('tiny'), ['imageText.mode=many']), /'imageText.mode'/);
  assert.throws(() => applyOverrides(preset('tiny'), ['train.lr.x=1']), /'train.lr' is a value, not a section/);
  assert.throws(() => applyOverrides(preset('tiny'), ['train.accumulate=0']), /'train.accumulate'/);
  assert.throws(() => applyOverrides(preset('tiny'), ['data.detection.ratio=0', 'data.grounding.ratio=0', 'data.imageText.ratio=0']),
    /at least one kind needs ratio > 0/);
});

test('resolveTrainConfig merges a partial YAML file, then overrides; errors name the file', () => {
  const f = path.join(tmp, 'run.yaml');
  fs.writeFileSync(f, 'train:\n  steps: 42\nloss:\n  giou: 1\n  center: 2\n');
  const c = resolveTrainConfig({ preset: 't', file: f, overrides: ['train.seed=7'] });
  assert.equal(c.train.steps, 42);
  assert.equal(c.train.seed, 7);
  assert.equal(c.train.lr, 2.8e-4, 'untouched keys keep the preset');
  assert.deepEqual(c.loss, { align: 1, giou: 1, center: 2, contrastive: 0.1 });
  fs.writeFileSync(f, 'train:\n  stepz: 42\n');
  assert.throws(() => resolveTrainConfig({ file: f }), new RegExp(`^UserError: ${f.replace(/[.]/g, '\\.')}: unknown key 'train.stepz' \\(did you mean 'steps'\\?\\)$`));
  fs.writeFileSync(f, 'train: [1, 2');
  assert.throws(() => resolveTrainConfig({ file: f }), /not valid YAML/);
  assert.throws(() => resolveTrainConfig({ file: path.join(tmp, 'none.yaml') }), /none.yaml: cannot read config \(ENOENT\)/);
  assert.throws(() => resolveTrainConfig({ preset: 'xl' }), /unknown train preset 'xl'/);
});
