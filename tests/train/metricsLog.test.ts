import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetricsLog, readMetrics, truncateMetrics, type TrainRecord } from '../../src/train/metricsLog.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-metrics-'));
const rec = (step: number, kind = 'detection'): TrainRecord => ({ step, kind, lr: 1e-3, loss: step / 10, losses: { align: step / 10 }, time: step });

test('appends one JSON object per line and reads them back', () => {
  const f = path.join(tmp, 'sub', 'a.jsonl');
  const log = new MetricsLog(f);
  log.append(rec(1));
  log.append({ step: 1, kind: 'eval', metrics: { ap: 0.25 }, time: 1.5 });
  log.append(rec(2, 'imageText'));
  const lines = fs.readFileSync(f, 'utf8').split('\n');
  assert.equal(lines.length, 4);
  assert.deepEqual(JSON.parse(lines[0]!), { step: 1, kind: 'detection', lr: 1e-3, loss: 0.1, losses: { align: 0.1 }, time: 1 });
  const back = readMetrics(f);
  assert.equal(back.length, 3);
  assert.equal(back[2]!.kind, 'imageText');
  assert.deepEqual(readMetrics(path.join(tmp, 'missing.jsonl')), []);
});

test('a torn last line is skipped, a corrupt middle line names file and line', () => {
  const f = path.join(tmp, 'torn.jsonl');
  fs.writeFileSync(f, JSON.stringify(rec(1)) + '\n' + JSON.stringify(rec(2)) + '\n{"step": 3, "ki');
  assert.deepEqual(readMetrics(f).map((r) => r.step), [1, 2]);
  fs.writeFileSync(f, JSON.stringify(rec(1)) + '\nnot json\n' + JSON.stringify(rec(2)) + '\n');
  assert.throws(() => readMetrics(f), new RegExp(`${f}: line 2: not a metrics record`));
});

test('truncateMetrics keeps records up to a step (resume drops the abandoned tail)', () => {
  const f = path.join(tmp, 'trunc.jsonl');
  const log = new MetricsLog(f);
  for (let s = 1; s <= 5; s++) log.append(rec(s));
  fs.appendFileSync(f, '{"step":6');
  truncateMetrics(f, 3);
  assert.deepEqual(readMetrics(f).map((r) => r.step), [1, 2, 3]);
  assert.ok(fs.readFileSync(f, 'utf8').endsWith('\n'));
  log.append(rec(4));
  assert.deepEqual(readMetrics(f).map((r) => r.step), [1, 2, 3, 4]);
});
