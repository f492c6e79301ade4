// Every reference case (pycocotools / lvis-api / lvis-api + Dave et al.'s top-K script) must reproduce the
// reference's numbers to 1e-6; in fact they match bit for bit, which the second assertion guards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, loadFixtureJson } from '../helpers/golden.ts';
import { evaluateCoco } from '../../src/eval/cocoEval.ts';
import { evaluateLvis } from '../../src/eval/lvisEval.ts';
import { evaluateLvisFixed } from '../../src/eval/fixedAp.ts';
import type { CocoDataset, CocoResult, EvalResult } from '../../src/eval/types.ts';

interface GoldenCase {
  kind: 'coco' | 'lvis' | 'lvis-fixed';
  params: { maxDets: number | number[]; topPerCategory?: number };
  gt: CocoDataset;
  dt: CocoResult[];
  expected: Record<string, number>;
}

const files = fs.readdirSync(path.join(FIXTURES, 'eval')).filter((f) => f.endsWith('.json')).sort();

test('there are golden cases for all three protocols', () => {
  for (const kind of ['coco-', 'lvis-1', 'lvis-fixed-']) assert.ok(files.filter((f) => f.startsWith(kind)).length >= 10, kind);
});

for (const file of files) {
  test(`golden ${file}`, () => {
    const c = loadFixtureJson<GoldenCase>(path.join('eval', file));
    let r: EvalResult;
    if (c.kind === 'coco') r = evaluateCoco(c.gt, c.dt, { maxDets: c.params.maxDets as number[] });
    else if (c.kind === 'lvis') r = evaluateLvis(c.gt, c.dt, { maxDets: c.params.maxDets as number });
    else r = evaluateLvisFixed(c.gt, c.dt, { topPerCategory: c.params.topPerCategory });
    assert.deepEqual(Object.keys(r.stats), Object.keys(c.expected), 'keys and their order');
    for (const [k, v] of Object.entries(c.expected)) {
      assert.ok(Math.abs(r.stats[k]! - v) <= 1e-6, `${k}: got ${r.stats[k]}, expected ${v}`);
    }
    assert.deepEqual(r.stats, c.expected, 'bit-exact');
  });
}

test('evaluation does not modify its inputs', () => {
  const c = loadFixtureJson<GoldenCase>('eval/lvis-fixed-103.json');
  const before = JSON.stringify([c.gt, c.dt]);
  evaluateLvisFixed(c.gt, c.dt, { topPerCategory: 20, perCategory: true });
  evaluateCoco(c.gt, c.dt);
  assert.equal(JSON.stringify([c.gt, c.dt]), before);
});
