import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFixtureJson } from '../../helpers/golden.ts';
import { cleanText, encodeBpe, ftfyLite, tokenize } from '../../../src/model/text/tokenizer.ts';
import { htmlUnescape } from '../../../src/model/text/htmlUnescape.ts';

interface Case { text: string; cleaned_text: string; bpe_ids_no_special: number[]; ids: number[]; truncated: boolean }
const cases = (): Case[] => loadFixtureJson('golden/clip_text.json').tokenizer.cases;

test('tokenize matches open_clip SimpleTokenizer ids exactly on all 19 fixture phrases', () => {
  const cs = cases();
  assert.equal(cs.length, 19);
  const ids = tokenize(cs.map((c) => c.text), 16);
  assert.ok(ids instanceof Int32Array);
  assert.equal(ids.length, 19 * 16);
  cs.forEach((c, i) => {
    assert.deepEqual([...ids.subarray(i * 16, (i + 1) * 16)], c.ids, `ids of ${JSON.stringify(c.text)}`);
    assert.equal(cleanText(c.text), c.cleaned_text, `cleaned ${JSON.stringify(c.text)}`);
    assert.deepEqual(encodeBpe(c.text), c.bpe_ids_no_special, `bpe of ${JSON.stringify(c.text)}`);
  });
});

test('tokenize: other context lengths pad with zeros or cut and keep EOT last', () => {
  const c = cases().find((x) => x.text.startsWith('a very long caption'))!;
  const bpe = c.bpe_ids_no_special; // 18 tokens
  const long = tokenize([c.text], 77);
  assert.deepEqual([...long], [49406, ...bpe, 49407, ...new Array(77 - 20).fill(0)]);
  const short = tokenize([c.text, ''], 4);
  assert.deepEqual([...short], [49406, bpe[0], bpe[1], 49407, 49406, 49407, 0, 0]);
  assert.equal(tokenize([], 16).length, 0);
  assert.throws(() => tokenize(['x'], 1), /contextLength/);
});

// Expected values from CPython 3.11 html.unescape.
const PY_UNESCAPE: [string, string][] = [
  ['rock &amp; roll', 'rock & roll'],
  ['&amp;amp;', '&amp;'],
  ['&lt;b&gt; &quot;hi&quot; &apos;x&apos;', "<b> \"hi\" 'x'"],
  ['&copy2024 &ampx &notin &notin; &hellip &hellip;', '\u00a92024 &x \u00acin \u2209 &hellip \u2026'],
  ['&#39;s &#x27;t &#X41;&#65 &#0; &#128; &#150; &#x9F; &#xD800; &#1114112; &#1; &#xFFFE; &#13;',
    "'s 't AA \ufffd \u20ac \u2013 \u0178 \ufffd \ufffd   \r"],
  ['&nbsp;&eacute;&Eacute &alpha;&Omega; &lang;&rang; &euro;&trade;', '\u00a0\u00e9\u00c9 \u03b1\u03a9 \u27e8\u27e9 \u20ac\u2122'],
  ['&unknown; & ; &; &#; &#x; a&b', '&unknown; & ; &; &#; &#x; a&b'],
  ['&AMP; &COPY &REG;', '& \u00a9 \u00ae'],
  ['&frac12; &sup2 &times;', '\u00bd \u00b2 \u00d7'],
];

test('htmlUnescape matches Python html.unescape', () => {
  for (const [input, want] of PY_UNESCAPE) assert.equal(htmlUnescape(input), want, JSON.stringify(input));
});

// Expected: Python whitespace_clean(basic_clean(x)).lower() with ftfy as identity (true for these inputs).
const PY_CLEAN: [string, string][] = [
  ['  A\t\nb\u2003C\u00a0d\u3000E &amp;amp;lt; F  ', 'a b c d e &lt; f'],
  ['\u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2 \u039f\u0394\u039f\u03a3', '\u03c3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2 \u03bf\u03b4\u03bf\u03c2'],
  ['&amp;nbsp;x&#x2003;y', 'x y'],
  ['\u0130stanbul STRASSE Stra\u00dfe', 'i\u0307stanbul strasse stra\u00dfe'],
];

test('cleanText: Python whitespace, unescape twice, strip, lower-case', () => {
  for (const [input, want] of PY_CLEAN) assert.equal(cleanText(input), want, JSON.stringify(input));
});

test('ftfyLite: ligatures, full-width forms, curly quotes, control characters, NFC (hand-written expectations)', () => {
  assert.equal(ftfyLite('\ufb01sh \ufb02ower'), 'fish flower');
  assert.equal(ftfyLite('\uff21\uff42\uff43\uff11\u3000\uff01'), 'Abc1 !');
  assert.equal(ftfyLite('don\u2019t \u201cstop\u201d'), 'don\'t "stop"');
  assert.equal(ftfyLite('a\u0000b\ufeffc\u0007'), 'abc');
  assert.equal(ftfyLite('cafe\u0301'), 'caf\u00e9');
  // A curly apostrophe tokenizes like a straight one (open_clip runs ftfy first).
  assert.deepEqual(encodeBpe('don\u2019t'), encodeBpe("don't"));
});
