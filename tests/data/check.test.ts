import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { checkDataset } from '../../src/data/check.ts';
import { tmpDir, writeGradientPng, writeJson, writeLines } from './tmp.ts';

/** Runs `detclip data ...` (only the data command, with main.ts's error handling). */
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tests/data/dataCli.ts', 'data', ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function badCocoDir(): Promise<string> {
  const dir = tmpDir('check-');
  await writeGradientPng(path.join(dir, 'ok.png'), 40, 30);
  await writeGradientPng(path.join(dir, 'big.png'), 64, 64);
  const png = fs.readFileSync(path.join(dir, 'big.png'));
  const noisy = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < noisy.length; i++) noisy[i] = (i * 7919) % 251;
  const full = await sharp(noisy, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  fs.writeFileSync(path.join(dir, 'cut.png'), full.subarray(0, full.length >> 1));
  fs.writeFileSync(path.join(dir, 'text.png'), 'this is not an image');
  assert.ok(png.length > 0);
  writeJson(path.join(dir, 'ann.json'), {
    images: [
      { id: 1, file_name: 'ok.png', width: 40, height: 30 },
      { id: 2, file_name: 'missing.png', width: 40, height: 30 },
      { id: 3, file_name: 'cut.png', width: 64, height: 64 },
      { id: 4, file_name: 'text.png', width: 64, height: 64 },
      { id: 5, file_name: 'big.png', width: 40, height: 30 },
    ],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 10, 10] },
      { id: 2, image_id: 1, category_id: 1, bbox: [30, 1, 20, 10] },
      { id: 3, image_id: 1, category_id: 1, bbox: [1, 1, -3, 10] },
      { id: 4, image_id: 1, category_id: 42, bbox: [1, 1, 3, 10] },
      { id: 5, image_id: 2, category_id: 1, bbox: [1, 1, 3, 10] },
      { id: 6, image_id: 3, category_id: 1, bbox: [1, 1, 3, 10] },
      { id: 7, image_id: 4, category_id: 1, bbox: [1, 1, 3, 10] },
      { id: 8, image_id: 5, category_id: 1, bbox: [1, 1, 3, 10] },
    ],
    categories: [{ id: 1, name: 'coat' }],
  });
  return dir;
}

test('check (API): every kind of bad COCO input gets one message naming file and record', async () => {
  const dir = await badCocoDir();
  const r = await checkDataset({ format: 'coco', file: path.join(dir, 'ann.json') });
  const msgs = r.issues.map((i) => `${path.basename(i.file)}: ${i.record}: ${i.message.replaceAll(dir + path.sep, '')}`);
  assert.equal(msgs.length, 7, msgs.join('\n'));
  assert.equal(msgs[0], 'ann.json: annotation #1 (id 2): bbox [30,1,20,10] (xywh) is outside the 40x30 image');
  assert.equal(msgs[1], 'ann.json: annotation #2 (id 3): bbox [1,1,-3,10] (xywh) has non-positive size');
  assert.equal(msgs[2], 'ann.json: annotation #3 (id 4): unknown category id 42');
  assert.equal(msgs[3], 'ann.json: image 2: image missing.png: missing file');
  assert.match(msgs[4]!, /^ann\.json: image 3: image cut\.png: corrupt or truncated image \(/);
  assert.match(msgs[5]!, /^ann\.json: image 4: image text\.png: corrupt or truncated image \(/);
  assert.equal(msgs[6], 'ann.json: image 5: image big.png: is 64x64 but the record says 40x30');
  assert.deepEqual([r.records, r.images, r.boxes, r.concepts], [5, 5, 5, 1]);
  // --images changes where images are looked for.
  const moved = await checkDataset({ format: 'coco', file: path.join(dir, 'ann.json'), images: path.join(dir, 'nowhere') });
  assert.equal(moved.issues.filter((i) => i.message.endsWith('missing file')).length, 5);
});

test('check (CLI): exit 1 with one line per problem naming file and record, and a summary', async () => {
  const dir = await badCocoDir();
  const bad = cli(['check', '--format', 'coco', path.join(dir, 'ann.json')]);
  assert.equal(bad.code, 1);
  const lines = bad.stderr.trim().split('\n');
  assert.equal(lines.length, 7);
  assert.ok(lines.every((l) => l.startsWith(`${path.join(dir, 'ann.json')}: `)), bad.stderr);
  assert.match(bad.stdout, /ann\.json \(coco, detection\): 5 records, 5 images, 5 boxes, 1 categories; 7 errors/);
});

test('check (API): grounding, wds and pairs problems; clean data has none', async () => {
  const dir = tmpDir('check-');
  await writeGradientPng(path.join(dir, 'g.png'), 50, 50);
  writeLines(path.join(dir, 'g.jsonl'), [
    JSON.stringify({ filename: 'g.png', height: 50, width: 50, grounding: { caption: 'a red six', regions: [{ bbox: [1, 1, 9, 9], phrase: 'red six', tokens_positive: [[2, 9]] }] } }),
    '{"filename": "g.png", "grounding": ',
    JSON.stringify({ filename: 'g.png', grounding: { caption: 'a cat', regions: [{ bbox: [1, 1, 9, 9], tokens_positive: [[2, 40]] }] } }),
    JSON.stringify({ filename: 'g.png', grounding: { caption: '', regions: [] } }),
    JSON.stringify({ filename: 'g.png', grounding: { caption: 'a cat', regions: [{ bbox: [1, 1, 90, 9], phrase: 'cat' }] } }),
  ]);
  const g = await checkDataset({ format: 'odvg', file: path.join(dir, 'g.jsonl') });
  assert.equal(g.kind, 'grounding');
  const gl = g.issues.map((i) => `${i.record}: ${i.message}`);
  assert.equal(gl.length, 4, gl.join('\n'));
  assert.match(gl[0]!, /^line 2: malformed JSON/);
  assert.equal(gl[1], 'line 3: region 0: tokens_positive [2,40] is outside the caption (length 5)');
  assert.equal(gl[2], 'line 4: empty caption');
  // No width/height in the record: the box is checked against the decoded image.
  assert.equal(gl[3], 'line 5: box [1, 1, 90, 9] is outside the 50x50 image');

  const shard = path.join(dir, 'shard.tar');
  fs.copyFileSync(path.join(dir, 'g.png'), path.join(dir, 'k1.png'));
  fs.writeFileSync(path.join(dir, 'k1.txt'), 'a red six');
  fs.writeFileSync(path.join(dir, 'k2.png'), 'broken');
  fs.writeFileSync(path.join(dir, 'k2.txt'), 'a blue coat');
  execFileSync('tar', ['-cf', shard, '-C', dir, 'k1.png', 'k1.txt', 'k2.png', 'k2.txt']);
  const w = await checkDataset({ format: 'wds', file: [shard] });
  assert.deepEqual(w.issues.map((i) => [path.basename(i.file), i.record, i.message.split(' (')[0]]), [['shard.tar', 'key k2', 'image: corrupt or truncated image']]);
  assert.deepEqual([w.records, w.captions], [2, 2]);

  writeLines(path.join(dir, 'p.jsonl'), [JSON.stringify({ image: 'g.png', caption: 'a red six' }), JSON.stringify({ image: 'nope.png', caption: 'x' })]);
  const p = await checkDataset({ format: 'pairs', file: path.join(dir, 'p.jsonl') });
  assert.deepEqual(p.issues.map((i) => `${i.record}: ${i.message.replace(dir + path.sep, '')}`), ['line 2: image nope.png: missing file']);
  writeLines(path.join(dir, 'ok.jsonl'), [JSON.stringify({ image: 'g.png', caption: 'a red six' })]);
  assert.equal((await checkDataset({ format: 'pairs', file: path.join(dir, 'ok.jsonl') })).issues.length, 0);
  await assert.rejects(checkDataset({ format: 'coco', file: path.join(dir, 'nope.json') }), /nope\.json: no such file/);
});

test('synth + concepts (CLI): generate a tiny OVD-MNIST, it checks clean, and its captions give a dictionary', async () => {
  const dir = tmpDir('synth-cli-');
  const s = cli(['synth', '--out', dir, '--train', '9', '--val', '3', '--seed', '4', '--pool-limit', '10']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /3 detection .*3 grounding, 3 pair images; 3 val images/);
  for (const [format, file] of [['coco', 'val.json'], ['coco', 'detection.json'], ['odvg', 'grounding.jsonl'], ['pairs', 'pairs.jsonl']] as const)
    assert.deepEqual((await checkDataset({ format, file: path.join(dir, file) })).issues, [], file);
  // The frequency floor: every kept concept was counted at least min-count times; most frequent first.
  const out = path.join(dir, 'dict.json');
  const k = cli(['concepts', '--captions', path.join(dir, 'pairs.jsonl'), path.join(dir, 'grounding.jsonl'), path.join(dir, 'detection.json'), '--out', out, '--min-count', '2']);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /dict\.json: \d+ concepts \(of \d+ distinct, min count 2\) from 6 captions and \d+ category occurrences/);
  const dict = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual([dict.version, dict.minCount], [1, 2]);
  const counts = dict.concepts.map((x: { count: number }) => x.count);
  assert.ok(counts.length > 0 && counts.every((c: number) => c >= 2));
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
});

test('concept counting: phrases once per caption, categories once per image, floor', async () => {
  const { ConceptCounter } = await import('../../src/data/conceptDictionary.ts');
  const { countConceptsFrom } = await import('../../src/data/conceptSources.ts');
  const dir = tmpDir('concepts-');
  writeLines(path.join(dir, 'c.txt'), ['a red six and a red six', 'a red six above a dog', '']);
  writeJson(path.join(dir, 'd.json'), { images: [], categories: [{ id: 1, name: 'hot_dog' }], annotations: [
    { image_id: 1, category_id: 1 }, { image_id: 1, category_id: 1 }, { image_id: 2, category_id: 1 }, { image_id: 2, category_id: 5 }] });
  const counter = new ConceptCounter();
  const skipped: string[] = [];
  await countConceptsFrom(path.join(dir, 'c.txt'), counter, (i) => skipped.push(i.record));
  await countConceptsFrom(path.join(dir, 'd.json'), counter, (i) => skipped.push(`${i.record}: ${i.message}`));
  assert.deepEqual(counter.entries(1), [{ text: 'hot dog', count: 2 }, { text: 'red six', count: 2 }, { text: 'dog', count: 1 }]);
  assert.deepEqual(counter.entries(2).map((e) => e.text), ['hot dog', 'red six']);
  assert.deepEqual(skipped, ['annotation #3: unknown category id']);
});
