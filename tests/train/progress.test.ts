import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TrainProgress } from '../../src/train/progress.ts';

function fakeStream(tty: boolean): Writable & { isTTY: boolean; columns: number; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return Object.assign(w, { isTTY: tty, columns: 160, text: () => chunks.join('') });
}

test('EMA per kind is debiased (hand-computed) and survives getState/setState', () => {
  const p = new TrainProgress({ total: 10, quiet: true, emaWeight: 0.5 });
  p.observe('detection', 2);
  p.observe('detection', 4);   // acc: 1 -> 0.5+2 = 2.5; debiased 2.5 / 0.75
  p.observe('imageText', 7);
  p.observe('imageText', NaN); // ignored
  const e = p.ema();
  assert.ok(Math.abs(e.detection! - 2.5 / 0.75) < 1e-12);
  assert.equal(e.imageText, 7);
  const q = new TrainProgress({ total: 10, quiet: true, emaWeight: 0.5 });
  q.setState(p.getState());
  assert.deepEqual(q.ema(), e);
  p.stop(); q.stop();
});

test('draws a bar with ETA and losses on a TTY; silent when not a TTY or quiet', () => {
  const tty = fakeStream(true);
  const p = new TrainProgress({ total: 100, start: 10, stream: tty });
  assert.equal(p.visible, true);
  p.observe('grounding', 1.25);
  p.update(11, 2.8e-4);
  p.stop();
  const out = tty.text();
  assert.match(out, /11\/100/);
  assert.match(out, /ETA/);
  assert.match(out, /grounding 1\.250/);
  assert.match(out, /lr 2\.80e-4/);

  for (const [stream, quiet] of [[fakeStream(false), false], [fakeStream(true), true]] as const) {
    const s = new TrainProgress({ total: 5, stream, quiet });
    assert.equal(s.visible, false);
    s.observe('detection', 1);
    s.update(1, 1e-3);
    s.stop();
    assert.equal(stream.text(), '');
  }
});
