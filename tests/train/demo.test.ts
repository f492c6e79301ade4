import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { setAsideStaleDataset } from '../../src/train/demo.ts';
import { OVD_MNIST_VERSION } from '../../src/data/synth/ovdMnist.ts';
import { COLORS } from '../../src/data/synth/ovdMnistCategories.ts';

test('detclip demo --quick: synthesises, trains jointly, evaluates base/novel and writes the run folder', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-demo-'));
  const data = path.join(tmp, 'data');
  const out = path.join(tmp, 'run');
  const stdout = execFileSync(process.execPath, ['bin/detclip.js', 'demo', '--quick', '--quiet', '--data', data, '--out', out],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(stdout, /^split\s+AP\s+AP50$/m);
  for (const row of ['base', 'novel', 'all']) assert.match(stdout, new RegExp(`^${row}\\s+\\d\\.\\d{3}\\s+\\d\\.\\d{3}$`, 'm'));
  assert.match(stdout, /wall time \d+\.\d s/);
  for (const f of ['model/config.json', 'model/model.safetensors', 'metrics.json', 'metrics.jsonl', 'loss.png', 'checkpoint/state.json']) {
    assert.ok(fs.existsSync(path.join(out, f)), `${f} written`);
  }
  const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
  assert.equal(metrics.steps, 6);
  assert.ok(metrics.base && metrics.novel && typeof metrics.stats.AP50 === 'number');
  const examples = fs.readdirSync(path.join(out, 'examples')).filter((f) => f.endsWith('.png'));
  assert.ok(examples.length >= 1);
  // each kind was trained: the metrics log holds detection, grounding and imageText steps
  const kinds = new Set(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).kind));
  for (const k of ['detection', 'grounding', 'imageText']) assert.ok(kinds.has(k), `${k} trained`);
  // val images are all-category (base + novel) and never come from the training pools
  const val = JSON.parse(fs.readFileSync(path.join(data, 'val.json'), 'utf8'));
  assert.deepEqual(new Set(val.categories.map((c: { split: string }) => c.split)), new Set(['base', 'novel']));
  // the demo's recipe (DEMO_OVERRIDES) is the one recorded in the checkpoint; pair captions name no colours
  const cfg = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint/state.json'), 'utf8')).config;
  assert.equal(cfg.loss.contrastive, 1);
  assert.equal(cfg.imageText.centerImages, true);
  const captions = fs.readFileSync(path.join(data, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).caption as string);
  assert.ok(captions.length > 10 && captions.every((c) => !new RegExp(`\\b(${COLORS.map((k) => k.name).join('|')})\\b`).test(c)), captions[0]);
});

test('an OVD-MNIST folder of another generator version is moved aside, never deleted; a current one stays', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-demo-data-'));
  const dir = path.join(tmp, 'ovd-mnist');
  const lines: string[] = [];
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ dataset: 'OVD-MNIST', version: OVD_MNIST_VERSION }));
  assert.equal(setAsideStaleDataset(dir, (l) => lines.push(l)), false);
  assert.ok(fs.existsSync(path.join(dir, 'meta.json')));
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ dataset: 'OVD-MNIST', version: 1 }));
  assert.equal(setAsideStaleDataset(dir, (l) => lines.push(l)), true);
  assert.ok(!fs.existsSync(dir));
  const moved = fs.readdirSync(tmp).filter((n) => n.startsWith('ovd-mnist-'));
  assert.equal(moved.length, 1);
  assert.ok(fs.existsSync(path.join(tmp, moved[0]!, 'meta.json')), 'the old data kept');
  assert.match(lines[0]!, new RegExp(`holds OVD-MNIST version 1; this detclip makes version ${OVD_MNIST_VERSION}`));
  assert.equal(setAsideStaleDataset(path.join(tmp, 'absent'), (l) => lines.push(l)), false);
});
