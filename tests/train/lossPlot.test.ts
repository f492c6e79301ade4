import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { buildLossSvg, logTicks, lossSeries, niceTicks, smoothEma, writeLossPlot } from '../../src/train/lossPlot.ts';
import type { MetricsRecord } from '../../src/train/metricsLog.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-plot-'));

function fakeRun(n: number): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  const kinds = ['detection', 'grounding', 'imageText'];
  for (let s = 1; s <= n; s++) {
    const kind = kinds[s % 3]!;
    const base = kind === 'imageText' ? 4 : kind === 'grounding' ? 2.5 : 3;
    const loss = base * Math.exp(-s / 60) + 0.6 + 0.15 * Math.sin(s * 1.7);
    out.push({ step: s, kind, lr: 1e-3, loss, losses: { align: loss }, time: s });
    if (s % 50 === 0) out.push({ step: s, kind: 'eval', metrics: { ap: s / 1000 }, time: s });
  }
  return out;
}

test('debiased EMA smoothing (hand-computed)', () => {
  // w=0.5: acc 1 -> 0.5 -> 0.5*0.5+0.5*3 = 1.75; debiased: 0.5/0.5 = 1, 1.75/0.75
  const s = smoothEma([1, 3], 0.5);
  assert.equal(s[0], 1);
  assert.ok(Math.abs(s[1]! - 1.75 / 0.75) < 1e-12);
  assert.deepEqual(smoothEma([2, 5], 0), [2, 5]);
});

test('nice ticks at 1/2/5 x 10^k and log ticks', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 300, 8), [0, 50, 100, 150, 200, 250, 300]);
  assert.deepEqual(niceTicks(0.13, 0.91, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(logTicks(0.3, 30), [0.5, 1, 2, 5, 10, 20]);
});

test('series per kind skip eval records; SVG has a legend entry and two paths per kind', () => {
  const recs = fakeRun(30);
  const s = lossSeries(recs);
  assert.deepEqual([...s.keys()].sort(), ['detection', 'grounding', 'imageText']);
  assert.equal(s.get('detection')!.length, 10);
  const svg = buildLossSvg(recs, { title: 'a <b>' });
  assert.equal((svg.match(/<path /g) ?? []).length, 6);
  for (const k of ['detection (10)', 'grounding (10)', 'imageText (10)', 'a &lt;b&gt;', 'optimizer step']) assert.ok(svg.includes(k), k);
  assert.ok(buildLossSvg([]).includes('no training records yet'));
});

test('writes a PNG of the requested size', async () => {
  const f = path.join(tmp, 'loss.png');
  await writeLossPlot(f, fakeRun(300), { width: 800, height: 450, title: 'demo run' });
  const meta = await sharp(f).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [800, 450]);
  if (process.env.DETCLIP_KEEP_PLOT) fs.copyFileSync(f, process.env.DETCLIP_KEEP_PLOT);
});
