import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/ops/rng.ts';

const draw = (r: Rng, n: number) => Array.from({ length: n }, () => r.nextUint32());

describe('Rng (xoshiro128**)', () => {
  it('implements xoshiro128**: from state [1, 2, 3, 4] (hand-stepped reference outputs)', () => {
    // s1 = 2 -> rotl(2*5, 7)*9 = 1280*9 = 11520; after one step s1 = 0 -> 0; then s1 = 1029 -> 5145<<7 * 9
    const r = Rng.fromState({ key: [0, 0, 0, 0], s: [1, 2, 3, 4] });
    assert.deepEqual(draw(r, 4), [11520, 0, 5927040, 70819200]);
  });

  it('is deterministic per seed and differs between seeds (numbers and strings)', () => {
    assert.deepEqual(draw(new Rng(42), 50), draw(new Rng(42), 50));
    assert.deepEqual(draw(new Rng('train'), 20), draw(new Rng('train'), 20));
    assert.notDeepEqual(draw(new Rng(42), 20), draw(new Rng(43), 20));
    assert.notDeepEqual(draw(new Rng(1), 20), draw(new Rng('1'), 20));
    assert.notDeepEqual(draw(new Rng(0), 20), draw(new Rng(2 ** 32), 20)); // high word counts
    assert.throws(() => new Rng(1.5), /safe integer/);
  });

  it('getState / setState resume the exact stream (JSON round trip), fork included', () => {
    const r = new Rng(7);
    draw(r, 13);
    r.normal();
    const saved = JSON.parse(JSON.stringify(r.getState()));
    const expected = [draw(r, 10), r.fork('aug').next(), r.int(1000), r.shuffle([1, 2, 3, 4, 5, 6])];
    const q = Rng.fromState(saved);
    assert.deepEqual([draw(q, 10), q.fork('aug').next(), q.int(1000), q.shuffle([1, 2, 3, 4, 5, 6])], expected);
    assert.throws(() => q.setState({ key: [0, 0, 0, 0], s: [0, 0, 0, 0] }), /all-zero/);
    assert.throws(() => q.setState({ key: [1, 2, 3], s: [1, 2, 3, 4] } as never), /expected/);
  });

  it('fork: depends on key + label only, children are distinct from each other and the parent', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    draw(b, 100); // parent position does not matter
    assert.deepEqual(draw(a.fork('data'), 10), draw(b.fork('data'), 10));
    assert.notDeepEqual(draw(a.fork('data'), 10), draw(a.fork('init'), 10));
    assert.notDeepEqual(draw(a.fork(1), 10), draw(a.fork('1'), 10));
    assert.notDeepEqual(draw(a.fork('data'), 10), draw(new Rng(5), 10));
    assert.deepEqual(draw(a.fork('x').fork('y'), 5), draw(b.fork('x').fork('y'), 5));
    assert.notDeepEqual(draw(a.fork('x').fork('y'), 5), draw(a.fork('y').fork('x'), 5));
  });

  it('next() is uniform on [0, 1): mean, variance, 10 bins (chi-square)', () => {
    const r = new Rng(1);
    const n = 100_000;
    const bins = new Array(10).fill(0);
    let sum = 0, sq = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      assert.ok(u >= 0 && u < 1);
      sum += u;
      sq += u * u;
      bins[Math.floor(u * 10)]++;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.005);
    assert.ok(Math.abs(sq / n - (sum / n) ** 2 - 1 / 12) < 0.003);
    const chi2 = bins.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    assert.ok(chi2 < 27.9, `chi2 ${chi2}`); // 9 dof, p = 0.001
  });

  it('int(n) is unbiased over [0, n) and validates n', () => {
    const r = new Rng(2);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    assert.ok(chi2 < 20.5, `chi2 ${chi2}`); // 5 dof, p = 0.001
    const big = r.int(2 ** 32);
    assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 32);
    for (const bad of [0, -1, 2.5, 2 ** 32 + 1]) assert.throws(() => r.int(bad), /Rng.int/);
  });

  it('normal() has mean ~0, std ~1, and the right tail mass', () => {
    const r = new Rng(3);
    const n = 100_000;
    let sum = 0, sq = 0, beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    assert.ok(Math.abs(sum / n) < 0.015);
    assert.ok(Math.abs(Math.sqrt(sq / n) - 1) < 0.015);
    assert.ok(Math.abs(beyond2 / n - 0.0455) < 0.004); // P(|Z| > 2) = 0.0455
    const s = new Rng(3).normal(10, 0.5);
    assert.ok(Math.abs(s - 10) < 5);
  });

  it('shuffle is a permutation with uniform positions; sample has no repeats and is uniform', () => {
    const r = new Rng(4);
    const pos = new Array(5).fill(0);
    for (let t = 0; t < 20_000; t++) {
      const p = r.shuffle([0, 1, 2, 3, 4]);
      assert.deepEqual([...p].sort(), [0, 1, 2, 3, 4]);
      pos[p.indexOf(0)]++;
    }
    for (const c of pos) assert.ok(Math.abs(c - 4000) < 300, `positions ${pos}`);
    const hits = new Array(10).fill(0);
    for (let t = 0; t < 10_000; t++) {
      const s = r.sample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3);
      assert.equal(new Set(s).size, 3);
      for (const v of s) hits[v]++;
    }
    for (const c of hits) assert.ok(Math.abs(c - 3000) < 250, `sample hits ${hits}`);
    assert.deepEqual(r.sample(['a'], 0), []);
    assert.deepEqual(r.sample(['a', 'b'], 2).sort(), ['a', 'b']);
    assert.throws(() => r.sample([1, 2], 3), /k must be/);
    assert.deepEqual(r.permutation(6).sort(), [0, 1, 2, 3, 4, 5]);
  });

  it('choiceWeighted follows the weights, never picks a zero weight, rejects bad weights', () => {
    const r = new Rng(6);
    const w = [1, 0, 3, 6];
    const counts = [0, 0, 0, 0];
    for (let t = 0; t < 50_000; t++) counts[r.choiceWeighted(w)]++;
    assert.equal(counts[1], 0);
    assert.ok(Math.abs(counts[0]! / 50_000 - 0.1) < 0.01);
    assert.ok(Math.abs(counts[2]! / 50_000 - 0.3) < 0.015);
    assert.ok(Math.abs(counts[3]! / 50_000 - 0.6) < 0.015);
    assert.equal(r.choiceWeighted(new Float32Array([0, 0, 2])), 2);
    assert.throws(() => r.choiceWeighted([0, 0]), /sum to 0/);
    assert.throws(() => r.choiceWeighted([1, -1]), /weight 1/);
    assert.throws(() => r.choiceWeighted([1, NaN]), /weight 1/);
  });
});
