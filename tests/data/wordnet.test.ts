import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedWordNet } from '../../src/data/wordnet.ts';
import { conceptName, enrichCategory } from '../../src/data/wordnetEnrich.ts';

const wn = sharedWordNet();

test('wordnet: LVIS-style synset ids (WordNet 3.0 glosses)', () => {
  const s = wn.synset('aerosol.n.02')!;
  assert.equal(s.definition, 'a dispenser that holds a substance under pressure and that can release it as a fine spray (usually by means of a propellant gas)');
  assert.ok(s.lemmas.includes('spray can'));
  // The definition stops before the quoted examples.
  assert.equal(wn.synset('dog.n.01')!.definition, 'a member of the genus Canis (probably descended from the common wolf) that has been domesticated by man since prehistoric times; occurs in many breeds');
  assert.equal(wn.synset('jersey.n.03')!.definition, 'a close-fitting pullover shirt');
  assert.equal(wn.synset('nosuchword.n.01'), undefined);
  assert.equal(wn.synset('dog.n.99'), undefined);
});

test('wordnet: first noun sense, also of plurals and multi-word names', () => {
  assert.equal(wn.firstNounSense('coat')!.definition, 'an outer garment that has sleeves and covers the body from shoulder down; worn outdoors');
  assert.equal(wn.firstNounSense('trousers')!.lemmas[0], 'trouser');
  assert.equal(wn.firstNounSense('tennis shoe')!.id, 'tennis_shoe.n.01');
  assert.equal(wn.firstNounSense('qwertyuiop'), undefined);
});

test('enrichment: "name, definition"; synset first, text override, def fallback, bare name', () => {
  assert.equal(enrichCategory({ name: 'bag', synset: 'bag.n.04' }), 'bag, a container used for carrying money and small personal items or accessories (especially by women)');
  assert.equal(enrichCategory({ name: 'bag' }), 'bag, a flexible container with a single opening');
  assert.equal(enrichCategory({ name: 'bag', text: 'handbag' }), 'handbag');
  assert.equal(enrichCategory({ name: 'ankle_boot', synset: 'boot.n.01' }), 'ankle boot, footwear that covers the whole foot and lower leg');
  assert.equal(enrichCategory({ name: 'zorblax', def: 'a made-up thing' }), 'zorblax, a made-up thing');
  assert.equal(enrichCategory({ name: 'zorblax' }), 'zorblax');
  assert.equal(enrichCategory({ name: 'coat' }, { enabled: false }), 'coat');
  assert.equal(conceptName('coat, an outer garment'), 'coat');
});
