import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { kindConfig, loadDataConfig, ovdMnistDataConfig, parseDataConfig } from '../../src/data/config.ts';
import { tmpDir } from './tmp.ts';

test('data config: YAML with paths relative to the file, defaults per kind', () => {
  const dir = tmpDir('cfg-');
  const file = path.join(dir, 'data.yaml');
  fs.writeFileSync(file, [
    'sources:',
    '  - { kind: detection, format: coco, file: ann/det.json, images: img }',
    '  - { kind: imageText, format: wds, file: ["shards/a-{0..1}.tar"] }',
    'ratios: { detection: 2, imageText: 1 }',
    'detection: { batchSize: 2, resize: { mode: shortSide, short: 640, max: 1000 } }',
  ].join('\n'));
  const cfg = loadDataConfig(file);
  assert.equal(cfg.sources[0]!.file, path.join(dir, 'ann', 'det.json'));
  assert.equal(cfg.sources[0]!.images, path.join(dir, 'img'));
  assert.deepEqual(cfg.sources[1]!.file, [path.join(dir, 'shards', 'a-{0..1}.tar')]);
  assert.equal(kindConfig(cfg, 'detection').maxConcepts, 150);
  assert.equal(kindConfig(cfg, 'detection').flipProb, 0.5);
  assert.equal(kindConfig(cfg, 'grounding').maxConcepts, 100);
  assert.equal(kindConfig(cfg, 'imageText').batchSize, 32);
});

test('data config: unknown keys get a suggestion; bad values name the path', () => {
  assert.throws(() => parseDataConfig({ sorces: [] }, 'd.yaml'), /d\.yaml: unknown key 'sorces' \(did you mean 'sources'\?\)/);
  assert.throws(() => parseDataConfig({ sources: [{ kind: 'detection', format: 'coco', file: 'x', imagse: 'y' }] }, 'd.yaml'),
    /d\.yaml: unknown key 'sources\.0\.imagse'/);
  assert.throws(() => parseDataConfig({ sources: [] }, 'd.yaml'), /d\.yaml: 'sources'/);
  assert.throws(() => parseDataConfig({ sources: [{ kind: 'detection', format: 'coco', file: 'x' }], detection: { batchSize: 1, resize: { mode: 'square', size: 64 }, scaleJitter: [1.5, 0.5] } }, 'd.yaml'),
    /scaleJitter': low 1.5 > high 0.5/);
  const dir = tmpDir('cfg-');
  fs.writeFileSync(path.join(dir, 'bad.yaml'), 'sources: [\n');
  assert.throws(() => loadDataConfig(path.join(dir, 'bad.yaml')), /bad\.yaml: cannot read data config/);
});

test('OVD-MNIST preset: 128 px detection/grounding, 64 px pairs, its concept dictionary', () => {
  const cfg = ovdMnistDataConfig('/data/ovd');
  assert.deepEqual(cfg.sources.map((s) => [s.kind, s.format, s.file]), [
    ['detection', 'coco', '/data/ovd/detection.json'], ['grounding', 'odvg', '/data/ovd/grounding.jsonl'], ['imageText', 'pairs', '/data/ovd/pairs.jsonl']]);
  assert.deepEqual(cfg.detection!.resize, { mode: 'square', size: 128 });
  assert.deepEqual(cfg.imageText!.resize, { mode: 'square', size: 64 });
  assert.equal(cfg.conceptDictionary, '/data/ovd/concepts.json');
});
