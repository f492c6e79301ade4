import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openCoco } from '../../src/data/cocoReader.ts';
import { openOdvg, sniffOdvgKind } from '../../src/data/odvgReader.ts';
import { openPairs } from '../../src/data/pairsReader.ts';
import { resolveImagePath } from '../../src/data/fileHelpers.ts';
import type { DataIssue, Sample, SampleSource } from '../../src/data/types.ts';
import { tmpDir, writeJson, writeLines } from './tmp.ts';

async function read(src: SampleSource): Promise<{ samples: Sample[]; issues: string[] }> {
  const issues: DataIssue[] = [];
  const samples: Sample[] = [];
  for await (const s of src.samples((i) => issues.push(i))) samples.push(s);
  return { samples, issues: issues.map((i) => `${path.basename(i.file)}: ${i.record}: ${i.message}`) };
}

test('image paths: absolute stay, relative resolve against --images, else the annotation folder', () => {
  assert.equal(resolveImagePath('/abs/x.png', '/data/ann/a.json'), '/abs/x.png');
  assert.equal(resolveImagePath('img/x.png', '/data/ann/a.json'), '/data/ann/img/x.png');
  assert.equal(resolveImagePath('img/x.png', '/data/ann/a.json', '/imgs'), '/imgs/img/x.png');
});

test('coco: xywh -> xyxy, positives in first-seen order, crowd skipped, bad annotations reported', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'ann', 'coco.json');
  writeJson(file, {
    images: [
      { id: 1, file_name: 'a.png', width: 100, height: 80 },
      { id: 2, file_name: 'b.png', width: 50, height: 50 },
      { id: 3, file_name: 'c.png', width: 50, height: 50 }, // no boxes: dropped by default
      { id: 4, file_name: 'd.png', width: 0, height: 50 },
    ],
    annotations: [
      { id: 10, image_id: 1, category_id: 7, bbox: [10, 20, 30, 40] },
      { id: 11, image_id: 1, category_id: 3, bbox: [0, 0, 5, 5] },
      { id: 12, image_id: 1, category_id: 7, bbox: [50, 10, 10, 10] },
      { id: 13, image_id: 1, category_id: 3, bbox: [0, 0, 100, 80], iscrowd: 1 },
      { id: 14, image_id: 2, category_id: 99, bbox: [1, 1, 2, 2] },
      { id: 15, image_id: 2, category_id: 3, bbox: [40, 40, 20, 5] },
      { id: 16, image_id: 2, category_id: 3, bbox: [4, 4, 0, 5] },
      { id: 17, image_id: 9, category_id: 3, bbox: [4, 4, 1, 5] },
      { id: 18, image_id: 2, category_id: 7, bbox: [1, 2, 3, 4] },
    ],
    categories: [{ id: 3, name: 'coat', synset: 'coat.n.01' }, { id: 7, name: 'hot_dog' }],
  });
  const src = openCoco(file, { enrich: { enabled: false } });
  assert.deepEqual(src.vocabulary, ['coat', 'hot dog']);
  const { samples, issues } = await read(src);
  assert.deepEqual(issues, [
    'coco.json: image #3 (id 4): width/height must be positive integers, got 0x50',
    'coco.json: annotation #4 (id 14): unknown category id 99',
    'coco.json: annotation #5 (id 15): bbox [40,40,20,5] (xywh) is outside the 50x50 image',
    'coco.json: annotation #6 (id 16): bbox [4,4,0,5] (xywh) has non-positive size',
    'coco.json: annotation #7 (id 17): unknown image id 9',
  ]);
  assert.equal(samples.length, 2);
  const [a, b] = samples;
  assert.equal(a!.image, path.join(dir, 'ann', 'a.png'));
  assert.deepEqual(a!.boxes, [[10, 20, 40, 60], [0, 0, 5, 5], [50, 10, 60, 20]]);
  assert.deepEqual(a!.concepts, ['hot dog', 'coat']);
  assert.deepEqual(a!.boxConcepts, [0, 1, 0]);
  assert.equal(a!.numPositive, 2);
  assert.equal(a!.record, 'image 1');
  assert.deepEqual([b!.boxes, b!.concepts], [[[1, 2, 4, 6]], ['hot dog']]);
  // Enrichment by synset, then by the name's first sense; --images changes the folder.
  const enriched = openCoco(file, { images: '/imgs', textOverrides: { hot_dog: 'hot dog, a sausage in a bun' } });
  assert.deepEqual(enriched.vocabulary, ['coat, an outer garment that has sleeves and covers the body from shoulder down; worn outdoors', 'hot dog, a sausage in a bun']);
  assert.equal((await read(enriched)).samples[0]!.image, '/imgs/a.png');
  assert.equal((await read(openCoco(file, { keepEmpty: true, enrich: { enabled: false } }))).samples.length, 3);
});

test('coco: unusable files fail as a whole with the file name', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'bad.json'), '{"images": [');
  assert.throws(() => openCoco(path.join(dir, 'bad.json')), /bad\.json: malformed JSON/);
  fs.writeFileSync(path.join(dir, 'bad2.json'), '{\n "images": [],\n "annotations": [1,}\n');
  assert.throws(() => openCoco(path.join(dir, 'bad2.json')), /bad2\.json: malformed JSON( at line 3)? \(/);
  writeJson(path.join(dir, 'x.json'), { images: [] });
  assert.throws(() => openCoco(path.join(dir, 'x.json')), /x\.json: not a COCO file/);
  assert.throws(() => openCoco(path.join(dir, 'missing.json')), /missing\.json: cannot read file \(ENOENT\)/);
});

test('odvg detection: label map, per-record validation with line numbers', async () => {
  const dir = tmpDir();
  writeJson(path.join(dir, 'labels.json'), { 0: 'person', 1: 'bag', 2: { name: 'coat', text: 'a coat' } });
  const inst = (bbox: number[], label: number, category: string) => ({ bbox, label, category });
  const file = path.join(dir, 'det.jsonl');
  writeLines(file, [
    JSON.stringify({ filename: 'x.jpg', height: 40, width: 60, detection: { instances: [inst([1, 2, 11, 12], 1, 'bag'), inst([5, 5, 9, 9], 0, 'person'), inst([0, 0, 3, 3], 1, 'bag')] } }),
    '{"filename": "y.jpg", "height": 40,',
    JSON.stringify({ filename: 'y.jpg', height: 40, width: 60, detection: { instances: [inst([1, 2, 11, 12], 5, 'dog')] } }),
    '',
    JSON.stringify({ filename: 'z.jpg', height: 40, width: 60, detection: { instances: [inst([1, 2, 70, 12], 1, 'bag')] } }),
    JSON.stringify({ filename: 'w.jpg', height: 40, width: 60, detection: { instances: [inst([2, 2, 6, 8], 2, 'coat')] } }),
  ]);
  assert.equal(await sniffOdvgKind(file), 'detection');
  const src = openOdvg(file, { labelMap: path.join(dir, 'labels.json'), images: '/im', enrich: { enabled: false } });
  assert.equal(src.kind, 'detection');
  assert.deepEqual(src.vocabulary, ['person', 'bag', 'a coat']);
  const { samples, issues } = await read(src);
  assert.equal(issues.length, 3);
  assert.match(issues[0]!, /^det\.jsonl: line 2: malformed JSON/);
  assert.equal(issues[1], 'det.jsonl: line 3: instance 0: unknown category id 5 (not in the label map)');
  assert.equal(issues[2], 'det.jsonl: line 5: instance 0: box [1, 2, 70, 12] is outside the 60x40 image');
  assert.deepEqual(samples.map((s) => [s.record, s.image, s.concepts, s.boxConcepts]), [
    ['line 1', '/im/x.jpg', ['bag', 'person'], [0, 1, 0]],
    ['line 6', '/im/w.jpg', ['a coat'], [0]],
  ]);
});

test('odvg grounding: phrases, tokens_positive spans, multi-box regions, caption errors', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'g.jsonl');
  const caption = 'a red six above a green coat';
  writeLines(file, [
    JSON.stringify({ filename: 'g1.png', height: 50, width: 50, grounding: { caption, regions: [
      { bbox: [1, 1, 10, 10], phrase: 'red six', tokens_positive: [[2, 9]] },
      { bbox: [[20, 20, 30, 30], [31, 31, 40, 40]], tokens_positive: [[18, 28]] },
    ] } }),
    JSON.stringify({ filename: 'g2.png', grounding: { caption: '  ', regions: [] } }),
    JSON.stringify({ filename: 'g3.png', grounding: { caption: 'a cat', regions: [{ bbox: [1, 1, 4, 4], phrase: 'cat', tokens_positive: [[2, 9]] }] } }),
    JSON.stringify({ filename: 'g4.png', grounding: { caption: 'a cat', regions: [{ bbox: [4, 1, 4, 4], phrase: 'cat' }] } }),
    JSON.stringify({ filename: 'g5.png', detection: { instances: [] } }),
  ]);
  assert.equal(await sniffOdvgKind(file), 'grounding');
  const { samples, issues } = await read(openOdvg(file));
  assert.deepEqual(issues, [
    'g.jsonl: line 2: empty caption',
    'g.jsonl: line 3: region 0: tokens_positive [2,9] is outside the caption (length 5)',
    'g.jsonl: line 4: region 0: box [4, 1, 4, 4] has non-positive size',
    "g.jsonl: line 5: needs 'grounding.caption' and 'grounding.regions'",
  ]);
  assert.equal(samples.length, 1);
  const s = samples[0]!;
  assert.equal(s.kind, 'grounding');
  assert.equal(s.caption, caption);
  assert.deepEqual(s.concepts, ['red six', 'green coat']);
  assert.deepEqual(s.boxes, [[1, 1, 10, 10], [20, 20, 30, 30], [31, 31, 40, 40]]);
  assert.deepEqual(s.boxConcepts, [0, 1, 1]);
  assert.deepEqual([s.width, s.height, s.image], [50, 50, path.join(dir, 'g1.png')]);
});

test('pairs: JSONL and TSV, empty captions and bad lines reported with line numbers', async () => {
  const dir = tmpDir();
  const jl = path.join(dir, 'p.jsonl');
  writeLines(jl, [
    JSON.stringify({ image: 'a.jpg', caption: 'a dog on a beach' }),
    JSON.stringify({ image: 'b.jpg', caption: '' }),
    'not json',
    JSON.stringify({ caption: 'no image' }),
  ]);
  const j = await read(openPairs(jl));
  assert.deepEqual(j.samples.map((s) => [s.kind, s.image, s.caption, s.record]), [['imageText', path.join(dir, 'a.jpg'), 'a dog on a beach', 'line 1']]);
  assert.equal(j.issues.length, 3);
  assert.equal(j.issues[0], 'p.jsonl: line 2: empty caption');
  assert.match(j.issues[1]!, /^p\.jsonl: line 3: malformed JSON/);
  assert.equal(j.issues[2], "p.jsonl: line 4: needs an 'image' path");
  const tsv = path.join(dir, 'p.tsv');
  writeLines(tsv, ['img/a.jpg\ta cat\twith a tab', 'no-tab-here', 'b.jpg\t ']);
  const t = await read(openPairs(tsv, { images: '/im' }));
  assert.deepEqual(t.samples.map((s) => [s.image, s.caption]), [['/im/img/a.jpg', 'a cat\twith a tab']]);
  assert.deepEqual(t.issues, ['p.tsv: line 2: expected "path<TAB>caption"', 'p.tsv: line 3: empty caption']);
});

test('coco: LVIS files (coco_url instead of file_name, synset and def on categories)', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'lvis_v1_val.json');
  writeJson(file, {
    images: [{ id: 397133, coco_url: 'http://images.cocodataset.org/val2017/000000397133.jpg', width: 640, height: 427, neg_category_ids: [], not_exhaustive_category_ids: [] }],
    annotations: [{ id: 1, image_id: 397133, category_id: 1, bbox: [1, 2, 3, 4], area: 12 }],
    categories: [{ id: 1, name: 'aerosol_can', synset: 'aerosol.n.02', def: 'a dispenser that holds a substance under pressure', frequency: 'c' }],
  });
  const src = openCoco(file, { images: '/coco' });
  assert.equal(src.vocabulary[0], 'aerosol can, a dispenser that holds a substance under pressure and that can release it as a fine spray (usually by means of a propellant gas)');
  const { samples, issues } = await read(src);
  assert.deepEqual(issues, []);
  assert.equal(samples[0]!.image, '/coco/val2017/000000397133.jpg');
  assert.deepEqual(samples[0]!.boxes, [[1, 2, 4, 6]]);
});
