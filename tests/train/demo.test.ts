import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

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
});
