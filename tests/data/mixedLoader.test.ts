import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createMixedLoader } from '../../src/data/mixedLoader.ts';
import { ovdMnistDataConfig, parseDataConfig, type DataConfig } from '../../src/data/config.ts';
import { mentions } from '../../src/data/negatives.ts';
import { generateOvdMnist } from '../../src/data/synth/ovdMnist.ts';
import type { Batch } from '../../src/data/types.ts';
import { tmpDir } from './tmp.ts';

const DIR = tmpDir('ovd-loader-');
let cfg: DataConfig;

before(async () => {
  await generateOvdMnist({ out: DIR, seed: 3, train: 24, val: 2, poolLimit: 20 });
  cfg = ovdMnistDataConfig(DIR, { batchSize: 2, pairsBatchSize: 3 });
});

/** A compact fingerprint of a batch (kind, shapes, concepts, boxes, a pixel checksum). */
function fingerprint(b: Batch): string {
  let sum = 0;
  for (let i = 0; i < b.pixels.length; i += 97) sum += b.pixels[i]! * (i % 13);
  return JSON.stringify([b.kind, b.height, b.width, b.concepts, b.imageConcepts, b.boxes.map((x) => Array.from(x)), b.boxLabels.map((x) => Array.from(x)), sum.toFixed(3), b.records]);
}

async function take(c: DataConfig, n: number, opts = {}): Promise<string[]> {
  const loader = await createMixedLoader(c, { seed: 11, ...opts });
  try {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(fingerprint(await loader.next()));
    return out;
  } finally {
    await loader.close();
  }
}

test('loader: batches of each kind follow the contract', async () => {
  const loader = await createMixedLoader(cfg, { seed: 1 });
  const seen = new Set<string>();
  try {
    for (let i = 0; i < 12 && seen.size < 3; i++) {
      const b = await loader.next();
      seen.add(b.kind);
      const B = b.imageSizes.length;
      const size = b.kind === 'imageText' ? 64 : 128;
      assert.equal(B, b.kind === 'imageText' ? 3 : 2);
      assert.deepEqual([b.height, b.width, b.pixels.length], [size, size, B * size * size * 3]);
      assert.equal(new Set(b.concepts).size, b.concepts.length, 'concepts are deduplicated');
      for (let j = 0; j < B; j++) {
        const labels = Array.from(b.boxLabels[j]!);
        assert.equal(b.boxes[j]!.length, labels.length * 4);
        for (const l of labels) assert.ok(b.positiveConcepts[j]!.includes(l) && b.imageConcepts[j]!.includes(l));
        for (let k = 0; k < b.boxes[j]!.length; k += 4) {
          const [x1, y1, x2, y2] = b.boxes[j]!.subarray(k, k + 4);
          assert.ok(x1! >= 0 && y1! >= 0 && x2! <= size && y2! <= size && x2! > x1! && y2! > y1!);
        }
        const own = b.imageConcepts[j]!.map((c) => b.concepts[c]!);
        if (b.kind === 'detection') {
          assert.equal(own.length, 10); // the 10 base categories: positives + every absent one (M = 150)
          assert.ok(own.every((t) => /^[a-z -]+, /.test(t)), 'enriched "name, definition" texts');
        } else if (b.kind === 'grounding') {
          const caption = b.captions[j]!;
          const negatives = own.filter((t) => !b.positiveConcepts[j]!.map((c) => b.concepts[c]).includes(t));
          assert.ok(negatives.length > 0);
          for (const t of negatives) assert.ok(!mentions(caption, t), `negative '${t}' is in '${caption}'`);
        } else {
          assert.equal(own[0], b.captions[j]);
          assert.equal(b.boxes[j]!.length, 0);
        }
      }
    }
  } finally {
    await loader.close();
  }
  assert.deepEqual([...seen].sort(), ['detection', 'grounding', 'imageText']);
});

test('loader: reproducible for a seed, same with worker threads, resumable from getState()', async () => {
  const a = await take(cfg, 6);
  assert.deepEqual(await take(cfg, 6), a);
  assert.deepEqual(await take(cfg, 3, { workers: 1 }), a.slice(0, 3));
  const first = await createMixedLoader(cfg, { seed: 11, prefetch: 3 });
  for (let i = 0; i < 3; i++) await first.next();
  const state = JSON.parse(JSON.stringify(first.getState()));
  await first.close();
  const resumed = await createMixedLoader(cfg, { seed: 11 });
  await resumed.next(); // consume something first: setState must discard it and any prefetched batches
  resumed.setState(state);
  const rest: string[] = [];
  for (let i = 0; i < 3; i++) rest.push(fingerprint(await resumed.next()));
  await resumed.close();
  assert.deepEqual(rest, a.slice(3));
  const other = await createMixedLoader(cfg, { seed: 12 });
  const b = [fingerprint(await other.next()), fingerprint(await other.next())];
  await other.close();
  assert.notDeepEqual(b, a.slice(0, 2));
});

test('loader: ratios pick kinds per iteration', async () => {
  const only = await take(parseDataConfig({ ...cfg, ratios: { detection: 1, grounding: 0, imageText: 0 } }, 'test'), 4);
  assert.ok(only.every((f) => JSON.parse(f)[0] === 'detection'));
  const c = parseDataConfig({ ...cfg, ratios: { detection: 3, grounding: 1, imageText: 0 } }, 'test');
  const loader = await createMixedLoader(c, { seed: 5 });
  for (let i = 0; i < 40; i++) await loader.next();
  const { byKind } = loader.stats();
  await loader.close();
  assert.equal(byKind.imageText, 0);
  assert.ok(byKind.detection >= 22 && byKind.detection <= 38, `detection ${byKind.detection}/40 at ratio 3:1`);
});

test('loader: bad records and corrupt images are skipped with counted warnings', async () => {
  const dir = tmpDir('ovd-bad-');
  fs.cpSync(DIR, dir, { recursive: true });
  const lines = fs.readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8').trim().split('\n');
  const broken = JSON.parse(lines[0]!).image;
  fs.writeFileSync(path.join(dir, broken), 'not a png');
  lines.push('{"image": "x.png", "caption": ""}', '{oops');
  fs.writeFileSync(path.join(dir, 'pairs.jsonl'), lines.join('\n'));
  const warnings: string[] = [];
  const c = parseDataConfig({ ...ovdMnistDataConfig(dir, { pairsBatchSize: 8 }), ratios: { imageText: 1 } }, 'test');
  const loader = await createMixedLoader(c, { seed: 2, onWarning: (m) => warnings.push(m) });
  let images = 0;
  for (let i = 0; i < 3; i++) images += (await loader.next()).imageSizes.length;
  const st = loader.stats();
  await loader.close();
  assert.equal(st.skippedRecords, 2, JSON.stringify(st));
  assert.ok(st.skippedImages >= 1, JSON.stringify(st));
  assert.equal(images, 24 - st.skippedImages);
  assert.ok(warnings.some((w) => /pairs\.jsonl: line 9: empty caption/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /pairs\.jsonl: line 10: malformed JSON/.test(w)));
  assert.ok(warnings.some((w) => w.includes(`cannot decode image ${path.join(dir, broken)}`)));
});

test('loader: WebDataset shards stream through a shuffle buffer, across epochs, resumably', async () => {
  const { execFileSync } = await import('node:child_process');
  const dir = tmpDir('ovd-wds-');
  const pairs = fs.readFileSync(path.join(DIR, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  pairs.forEach((p: { image: string; caption: string }, i: number) => {
    fs.copyFileSync(path.join(DIR, p.image), path.join(dir, `${String(i).padStart(4, '0')}.png`));
    fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.txt`), p.caption);
  });
  const members = (from: number, to: number) => pairs.slice(from, to).flatMap((_: unknown, j: number) => [`${String(from + j).padStart(4, '0')}.png`, `${String(from + j).padStart(4, '0')}.txt`]);
  execFileSync('tar', ['-cf', path.join(dir, 'shard-0.tar'), '-C', dir, ...members(0, 4)]);
  execFileSync('tar', ['-cf', path.join(dir, 'shard-1.tar'), '-C', dir, ...members(4, pairs.length)]);
  const c = parseDataConfig({
    sources: [{ kind: 'imageText', format: 'wds', file: path.join(dir, 'shard-{0..1}.tar'), shuffleBuffer: 3 }],
    imageText: { batchSize: 3, resize: { mode: 'square', size: 64 } },
  }, 'test');
  const a = await take(c, 6); // 18 samples: two full epochs of 8 and a bit
  assert.deepEqual(await take(c, 6), a);
  const records = a.slice(0, 3).flatMap((f) => JSON.parse(f)[8] as string[]); // 9 samples: epoch 0 (8) + 1
  assert.equal(new Set(records.slice(0, 8)).size, 8, 'the first epoch visits every pair once');
  assert.ok(records.every((r) => /shard-[01]\.tar#key \d{4}$/.test(r)), records.join());
  const first = await createMixedLoader(c, { seed: 11 });
  for (let i = 0; i < 2; i++) await first.next();
  const state = first.getState();
  await first.close();
  const resumed = await createMixedLoader(c, { seed: 11 });
  resumed.setState(state);
  const rest: string[] = [];
  for (let i = 0; i < 4; i++) rest.push(fingerprint(await resumed.next()));
  await resumed.close();
  assert.deepEqual(rest, a.slice(2));
});
