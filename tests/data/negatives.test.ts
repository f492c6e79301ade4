import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/ops/rng.ts';
import { addDetectionNegatives, addGroundingNegatives, imageTextConcepts, mentions } from '../../src/data/negatives.ts';
import type { Sample } from '../../src/data/types.ts';

const base = (kind: Sample['kind'], concepts: string[], caption?: string): Sample => ({
  kind, source: 's', record: 'r', image: 'i', boxes: [], boxConcepts: [], concepts, numPositive: concepts.length, caption,
});
const VOCAB = Array.from({ length: 20 }, (_, i) => `c${i}`);

test('detection negatives: positives first, absent categories only, up to M, seeded', () => {
  const s = base('detection', ['c3', 'c7']);
  const out = addDetectionNegatives(s, VOCAB, 6, new Rng(1));
  assert.deepEqual(out.concepts.slice(0, 2), ['c3', 'c7']);
  assert.equal(out.numPositive, 2);
  assert.equal(out.concepts.length, 6);
  assert.equal(new Set(out.concepts).size, 6);
  for (const c of out.concepts.slice(2)) assert.ok(VOCAB.includes(c) && c !== 'c3' && c !== 'c7');
  assert.deepEqual(addDetectionNegatives(s, VOCAB, 6, new Rng(1)).concepts, out.concepts);
  assert.notDeepEqual(addDetectionNegatives(s, VOCAB, 6, new Rng(2)).concepts, out.concepts);
  // M above the vocabulary: every absent category, once.
  assert.equal(addDetectionNegatives(s, VOCAB, 150, new Rng(1)).concepts.length, 20);
  // Each absent category is about equally likely.
  const hits = new Map<string, number>();
  const rng = new Rng(3);
  for (let i = 0; i < 3000; i++) for (const c of addDetectionNegatives(s, VOCAB, 5, rng).concepts.slice(2)) hits.set(c, (hits.get(c) ?? 0) + 1);
  for (const [c, n] of hits) assert.ok(Math.abs(n / 3000 - 3 / 18) < 0.03, `${c}: ${n}`);
  assert.equal(hits.size, 18);
});

test('grounding negatives: dictionary concepts not in the caption, up to M', () => {
  assert.ok(mentions('a red six above a green coat', 'green coat'));
  assert.ok(mentions('A Red six', 'red'));
  assert.ok(!mentions('a red sixty', 'six'));
  assert.ok(!mentions('a coated pill', 'coat'));
  const dict = ['coat', 'red six', 'blue bag', 'six', 'dog', 'cat', 'green', 'tree', 'sky', 'car', 'bus'];
  const s = base('grounding', ['red six', 'green coat'], 'a red six above a green coat');
  for (let seed = 0; seed < 30; seed++) {
    const out = addGroundingNegatives(s, dict, 6, new Rng(seed));
    assert.deepEqual(out.concepts.slice(0, 2), ['red six', 'green coat']);
    assert.equal(out.concepts.length, 6);
    for (const c of out.concepts.slice(2)) {
      assert.ok(!['coat', 'red six', 'six', 'green'].includes(c), `${c} appears in the caption`);
    }
    assert.equal(new Set(out.concepts).size, 6);
  }
  assert.deepEqual(addGroundingNegatives(s, [], 100, new Rng(0)).concepts, ['red six', 'green coat']);
});

test('image-text concepts: the caption, then its noun phrases; all positive', () => {
  const out = imageTextConcepts(base('imageText', [], 'A man in a red shirt riding a brown horse'));
  assert.deepEqual(out.concepts, ['A man in a red shirt riding a brown horse', 'man', 'red shirt', 'brown horse']);
  assert.equal(out.numPositive, 4);
  assert.deepEqual(imageTextConcepts(base('imageText', [], 'dogs')).concepts, ['dogs']);
});
