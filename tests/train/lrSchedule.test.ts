import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lrAt } from '../../src/train/lrSchedule.ts';

const s = { base: 1e-3, warmup: 4, total: 14, minRatio: 0.1 };
const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) <= 1e-15 + 1e-12 * Math.abs(b), `${a} != ${b}`);

test('linear warm-up reaches base at step warmup-1 and never starts at 0', () => {
  close(lrAt(0, s), 0.25e-3);
  close(lrAt(1, s), 0.5e-3);
  close(lrAt(3, s), 1e-3);
});

test('cosine decay from base to base*minRatio over total-warmup steps (hand-computed)', () => {
  close(lrAt(4, s), 1e-3);                                  // progress 0
  close(lrAt(9, s), 1e-4 + 0.9e-3 * 0.5);                   // progress 0.5: cos = 0
  close(lrAt(6, s), 1e-4 + 0.9e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.2)));
  close(lrAt(14, s), 1e-4);                                 // end: the floor
  close(lrAt(100, s), 1e-4);                                // past the end: stays at the floor
  for (let i = 5; i < 14; i++) assert.ok(lrAt(i, s) < lrAt(i - 1, s), 'monotone decay');
});

test('no warm-up and minRatio 0', () => {
  const t = { base: 2, warmup: 0, total: 4, minRatio: 0 };
  close(lrAt(0, t), 2);
  close(lrAt(2, t), 1);
  close(lrAt(4, t), 0);
  assert.throws(() => lrAt(-1, t), /non-negative integer/);
  assert.throws(() => lrAt(1.5, t), /non-negative integer/);
});
