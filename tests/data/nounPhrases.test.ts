import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractNounPhrases, nounPhraseTexts } from '../../src/data/nounPhrases.ts';
import { LABELLED_CAPTIONS } from './nounPhraseCaptions.ts';

test('noun phrases: the issue example', () => {
  assert.deepEqual(nounPhraseTexts('A man in a red shirt riding a brown horse'), ['man', 'red shirt', 'brown horse']);
});

test('noun phrases: spans point into the caption', () => {
  const c = 'a red six above a green coat';
  for (const p of extractNounPhrases(c)) assert.equal(c.slice(p.start, p.end).toLowerCase(), p.text);
  assert.deepEqual(extractNounPhrases(c).map((p) => [p.start, p.end]), [[2, 9], [18, 28]]);
});

test(`noun phrases: precision and recall on ${LABELLED_CAPTIONS.length} hand-labelled captions`, (t) => {
  assert.ok(LABELLED_CAPTIONS.length >= 30);
  let tp = 0, predicted = 0, gold = 0;
  const misses: string[] = [];
  for (const { caption, phrases } of LABELLED_CAPTIONS) {
    const got = new Set(nounPhraseTexts(caption));
    const want = new Set(phrases);
    const hit = [...got].filter((p) => want.has(p)).length;
    tp += hit; predicted += got.size; gold += want.size;
    if (hit !== got.size || hit !== want.size) misses.push(`${caption}: got [${[...got].join(', ')}]`);
  }
  const precision = tp / predicted;
  const recall = tp / gold;
  t.diagnostic(`noun phrases: precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)} (${tp}/${predicted} predicted, ${tp}/${gold} gold)`);
  for (const m of misses) t.diagnostic(`  differs: ${m}`);
  assert.ok(precision >= 0.9, `precision ${precision}`);
  assert.ok(recall >= 0.9, `recall ${recall}`);
});
