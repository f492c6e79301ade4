import { test } from 'node:test';
import { tempDir } from './tempDir.ts';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { vocabularyFromFile, vocabularyFromList } from '../../src/infer/vocabulary.ts';
import { listImageInputs, visFileNames } from '../../src/infer/imageFiles.ts';
import { cocoDetectResults } from '../../src/infer/cocoResults.ts';

const tmp = tempDir('detclip-vocab-');
const write = (name: string, text: string): string => {
  const f = path.join(tmp, name);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
};

test('--vocab: comma-separated, trimmed, ids 1..n; empty and repeated entries are errors', () => {
  assert.deepEqual(vocabularyFromList(' red umbrella, dog ,,cat'), [{ id: 1, name: 'red umbrella' }, { id: 2, name: 'dog' }, { id: 3, name: 'cat' }]);
  assert.throws(() => vocabularyFromList(' , '), /--vocab: the vocabulary is empty/);
  assert.throws(() => vocabularyFromList('dog,Dog'), /--vocab: entry 1 \('Dog'\) repeats entry 0/);
});

test('--vocab-file: lines, JSON phrases, COCO category lists and COCO files (their ids kept)', () => {
  assert.deepEqual(vocabularyFromFile(write('v.txt', '# animals\ndog\r\n\n  big cat  \n')), [{ id: 1, name: 'dog' }, { id: 2, name: 'big cat' }]);
  assert.deepEqual(vocabularyFromFile(write('v.json', '["dog", "cat"]')), [{ id: 1, name: 'dog' }, { id: 2, name: 'cat' }]);
  const cats = [{ id: 7, name: 'aerosol_can', synset: 'aerosol.n.02', def: 'a dispenser' }, { id: 11, name: 'coat', text: 'a warm coat' }];
  const want = [
    { id: 7, name: 'aerosol_can', synset: 'aerosol.n.02', def: 'a dispenser', text: undefined },
    { id: 11, name: 'coat', synset: undefined, def: undefined, text: 'a warm coat' },
  ];
  assert.deepEqual(vocabularyFromFile(write('cats.json', JSON.stringify(cats))), want);
  assert.deepEqual(vocabularyFromFile(write('coco.json', JSON.stringify({ images: [], annotations: [], categories: cats }))), want);
});

test('--vocab-file errors: one line naming the file and the entry', () => {
  assert.throws(() => vocabularyFromFile(path.join(tmp, 'none.txt')), /none\.txt: cannot read vocabulary file \(ENOENT\)/);
  assert.throws(() => vocabularyFromFile(write('e.txt', '# nothing\n\n')), /e\.txt: the vocabulary is empty/);
  assert.throws(() => vocabularyFromFile(write('bad.json', '[1,')), /bad\.json: not valid JSON/);
  assert.throws(() => vocabularyFromFile(write('o.json', '{"images": []}')), /o\.json: a JSON vocabulary is a list/);
  assert.throws(() => vocabularyFromFile(write('n.json', '{"categories": [{"id": 1}]}')), /n\.json: categories: entry 0: 'name' must be a non-empty string/);
  assert.throws(() => vocabularyFromFile(write('i.json', '[{"id": "x", "name": "a"}]')), /i\.json: entry 0 \('a'\): 'id' must be an integer, got "x"/);
  assert.throws(() => vocabularyFromFile(write('d.json', '[{"id": 3, "name": "a"}, {"id": 3, "name": "b"}]')), /d\.json: entry 1 \('b'\) has id 3, as entry 0/);
});

test('image inputs: files as given, folders recursively and sorted, missing inputs and empty folders are errors', () => {
  const d = path.join(tmp, 'imgs');
  for (const f of ['b.png', 'a.JPG', 'sub/c.webp', 'notes.txt', 'sub/a.png']) write(path.join('imgs', f), 'x');
  const single = write('x.png', 'x');
  const r = listImageInputs([single, d, path.join(d, 'b.png')]);
  assert.equal(r.fromFolders, true);
  assert.deepEqual(r.files, [single, path.join(d, 'a.JPG'), path.join(d, 'b.png'), path.join(d, 'sub', 'a.png'), path.join(d, 'sub', 'c.webp')]);
  assert.deepEqual(listImageInputs([single]), { files: [single], fromFolders: false });
  assert.throws(() => listImageInputs([path.join(tmp, 'nope')]), /nope: no such image file or folder/);
  fs.mkdirSync(path.join(tmp, 'empty'));
  assert.throws(() => listImageInputs([path.join(tmp, 'empty')]), /empty: no images in this folder/);
  assert.deepEqual(visFileNames(['a/x.jpg', 'b/x.png', 'c/X.webp', 'y.png']), ['x.png', 'x-2.png', 'X-3.png', 'y.png']);
});

test('COCO results: image ids by input order, category ids from the vocabulary, bbox as [x, y, w, h] (hand-computed)', () => {
  const det = (labelIndex: number, score: number, b: [number, number, number, number]) =>
    ({ label: '', labelIndex, score, box: { xmin: b[0], ymin: b[1], xmax: b[2], ymax: b[3] } });
  const r = cocoDetectResults([
    { file: 'a.png', width: 100, height: 50, detections: [det(1, 0.9, [10, 5, 30.123, 25])] },
    { file: 'b.png', width: 64, height: 64, detections: [] },
    { file: 'c.png', width: 8, height: 8, detections: [det(0, 0.25, [0, 0, 4, 2]), det(1, 0.125, [1, 1, 2, 2])] },
  ], [{ id: 7, name: 'dog' }, { id: 11, name: 'cat' }], { weights: 'w' });
  assert.deepEqual(r.info, { description: 'detclip detect results', weights: 'w' });
  assert.deepEqual(r.images, [
    { id: 1, file_name: 'a.png', width: 100, height: 50 }, { id: 2, file_name: 'b.png', width: 64, height: 64 },
    { id: 3, file_name: 'c.png', width: 8, height: 8 },
  ]);
  assert.deepEqual(r.categories, [{ id: 7, name: 'dog' }, { id: 11, name: 'cat' }]);
  assert.deepEqual(r.annotations, [
    { id: 1, image_id: 1, category_id: 11, bbox: [10, 5, 20.12, 20], area: 402.4, score: 0.9, iscrowd: 0 },
    { id: 2, image_id: 3, category_id: 7, bbox: [0, 0, 4, 2], area: 8, score: 0.25, iscrowd: 0 },
    { id: 3, image_id: 3, category_id: 11, bbox: [1, 1, 1, 1], area: 1, score: 0.125, iscrowd: 0 },
  ]);
});
