// Reading inputs: the batched results-list parser, and one clear error line per bad file or record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forEachJsonArrayElement, loadDetectionsFile, loadGroundTruthFile, readJsonFile } from '../../src/eval/loadJson.ts';
import { prepareDetections, prepareGroundTruth } from '../../src/eval/prepare.ts';
import { UserError } from '../../src/errors.ts';

const parseAll = (text: string, batchBytes: number): unknown[] => {
  const out: unknown[] = [];
  forEachJsonArrayElement(Buffer.from(text), 'x.json', (v, i) => { assert.equal(i, out.length); out.push(v); }, batchBytes);
  return out;
};

test('the batched parser gives what JSON.parse gives, whatever the batch size', () => {
  const texts = [
    '[]', ' [ ] ', '[1,2,3]',
    '[{"a":1},{"b":"},{\\"},{"},{"c":[{"x":1},{"y":2}]},{"d":"é ünïcode"}]',
    '[\n  {"image_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},\n  {"image_id": 2, "bbox": [5, 6, 7, 8], "score": 0.25}\n]\n',
    '\ufeff[{"a":1}]',
  ];
  for (const t of texts) {
    const expected = JSON.parse(t.replace(/^\ufeff/, ''));
    for (const batch of [1, 5, 16, 1 << 20]) assert.deepEqual(parseAll(t, batch), expected, `${t} @ ${batch}`);
  }
});

test('malformed lists name the problem and, where it can, the record', () => {
  const cases: [string, RegExp][] = [
    ['{"a": 1}', /^x\.json: must be a JSON list/],
    ['[{"a":1},]', /',' before the closing '\]'/],
    ['[{"a":1},  ]', /',' before the closing '\]'/],
    ['[{"a":1},{"b":tru}]', /^x\.json: \[1\]: not valid JSON/],
    ['[{"a":1},{"b":NaN}]', /^x\.json: \[1\]: not valid JSON/],
    ['[{"a":1},{"b":2}', /unexpected end of file in record 1/],
    ['[{"a":1}] x', /unexpected data after the list/],
    ['[{"a":1},,{"b":2}]', /empty element at record 1/],
    ['', /must be a JSON list/],
  ];
  for (const [text, re] of cases) {
    for (const batch of [1, 1 << 20]) {
      assert.throws(() => parseAll(text, batch), (e: Error) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'), `${text} @ ${batch}`);
    }
  }
});

const gtCoco = {
  images: [{ id: 1 }, { id: 2 }],
  categories: [{ id: 1, name: 'a' }, { id: 7, name: 'b' }],
  annotations: [{ id: 1, image_id: 1, category_id: 7, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 }],
};

test('detection records are checked: unknown image or category, non-finite or malformed numbers', () => {
  const gt = prepareGroundTruth(gtCoco, 'coco', 'gt.json');
  const ok = { image_id: 1, category_id: 7, bbox: [0, 0, 5, 5], score: 0.5 };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...ok, image_id: 3 }, /^dt\.json: \[1\]: image_id 3 is not an image of the ground truth$/],
    [{ ...ok, category_id: 2 }, /^dt\.json: \[1\]: category_id 2 is not a category of the ground truth$/],
    [{ ...ok, score: null }, /\[1\]: 'score' must be a finite number/],
    [{ ...ok, score: '0.5' }, /\[1\]: 'score' must be a finite number/],
    [{ ...ok, score: Infinity }, /\[1\]: 'score' must be a finite number/],
    [{ ...ok, bbox: [0, 0, 5] }, /\[1\]: bbox must be 4 finite numbers/],
    [{ ...ok, bbox: [0, NaN, 5, 5] }, /\[1\]: bbox must be 4 finite numbers/],
    [{ ...ok, bbox: [0, 0, -5, 5] }, /\[1\]: bbox width and height must be >= 0/],
  ];
  for (const [rec, re] of bad) assert.throws(() => prepareDetections([ok, rec], gt, 'dt.json'), (e: Error) => e instanceof UserError && re.test(e.message), re.source);
  assert.throws(() => prepareDetections({ results: [] }, gt, 'dt.json'), /dt\.json: must be a JSON list/);
  assert.equal(prepareDetections([ok, { ...ok, extra: 'kept out' }], gt, 'dt.json').n, 2);
});

test('ground truth is checked: structure, ids, references, areas, LVIS fields', () => {
  const bad: [unknown, 'coco' | 'lvis', RegExp][] = [
    [[], 'coco', /^gt\.json: must be a JSON object/],
    [{ ...gtCoco, images: undefined }, 'coco', /'images' must be a list/],
    [{ ...gtCoco, images: [{ id: 1 }, { id: 1 }] }, 'coco', /images\[1\]: duplicate id 1/],
    [{ ...gtCoco, annotations: [{ ...gtCoco.annotations[0], image_id: 9 }] }, 'coco', /annotations\[0\]: image_id 9 is not in 'images'/],
    [{ ...gtCoco, annotations: [{ ...gtCoco.annotations[0], category_id: 9 }] }, 'coco', /annotations\[0\]: category_id 9 is not in 'categories'/],
    [{ ...gtCoco, annotations: [{ ...gtCoco.annotations[0], area: undefined }] }, 'coco', /annotations\[0\]: 'area' must be a finite number/],
    [{ ...gtCoco, annotations: [gtCoco.annotations[0], gtCoco.annotations[0]] }, 'coco', /annotations\[1\]: duplicate id 1/],
    [gtCoco, 'lvis', /categories\[0\]: 'frequency' must be 'r', 'c' or 'f'/],
    [{ ...gtCoco, categories: [{ id: 1, frequency: 'f' }, { id: 7, frequency: 'r' }] }, 'lvis', /images\[0\]: 'neg_category_ids' must be a list/],
  ];
  for (const [gt, protocol, re] of bad) assert.throws(() => prepareGroundTruth(gt, protocol, 'gt.json'), (e: Error) => e instanceof UserError && re.test(e.message), re.source);
});

test('files: unreadable, not JSON, and a good round trip', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-eval-load-'));
  try {
    assert.throws(() => readJsonFile(path.join(dir, 'missing.json')), /missing\.json: cannot read \(ENOENT/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"images": [}');
    assert.throws(() => loadGroundTruthFile(path.join(dir, 'bad.json'), 'coco'), (e: Error) => e instanceof UserError && /bad\.json: not valid JSON/.test(e.message));
    fs.writeFileSync(path.join(dir, 'gt.json'), JSON.stringify(gtCoco));
    fs.writeFileSync(path.join(dir, 'dt.json'), JSON.stringify([{ image_id: 2, category_id: 1, bbox: [1, 2, 3, 4], score: 0.25 }]));
    const gt = loadGroundTruthFile(path.join(dir, 'gt.json'), 'coco');
    assert.deepEqual(gt.categoryIds, [1, 7]);
    const dt = loadDetectionsFile(path.join(dir, 'dt.json'), gt);
    assert.equal(dt.n, 1);
    assert.deepEqual([dt.img[0], dt.cat[0], dt.score[0], ...dt.box], [1, 0, 0.25, 1, 2, 3, 4]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
