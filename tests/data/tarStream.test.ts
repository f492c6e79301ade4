import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readTar, TarError } from '../../src/data/tarStream.ts';
import { expandShards, openWds, readShard, splitKey } from '../../src/data/wdsReader.ts';
import type { DataIssue, Sample } from '../../src/data/types.ts';
import { tmpDir, writeGradientPng } from './tmp.ts';

async function entries(file: string) {
  const out: { name: string; type: string; text: string }[] = [];
  for await (const e of readTar(fs.createReadStream(file))) out.push({ name: e.name, type: e.type, text: Buffer.from(e.data).toString('utf8') });
  return out;
}

test('tar: reads archives written by GNU tar (gnu and pax formats, long names, empty and multi-block files)', async () => {
  const dir = tmpDir();
  const long = `${'d'.repeat(60)}/${'f'.repeat(80)}.txt`;
  fs.mkdirSync(path.join(dir, 'src', 'd'.repeat(60)), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', 'a.txt'), 'hello');
  fs.writeFileSync(path.join(dir, 'src', 'empty.txt'), '');
  fs.writeFileSync(path.join(dir, 'src', 'big.txt'), 'x'.repeat(1500));
  fs.writeFileSync(path.join(dir, 'src', long), 'long one');
  for (const format of ['gnu', 'pax', 'ustar']) {
    const tar = path.join(dir, `${format}.tar`);
    const names = format === 'ustar' ? ['a.txt', 'empty.txt', 'big.txt'] : ['a.txt', 'empty.txt', 'big.txt', long];
    execFileSync('tar', [`--format=${format}`, '-cf', tar, '-C', path.join(dir, 'src'), ...names]);
    const got = await entries(tar);
    assert.deepEqual(got.map((e) => e.name), names, format);
    assert.equal(got[0]!.text, 'hello');
    assert.equal(got[1]!.text, '');
    assert.equal(got[2]!.text, 'x'.repeat(1500));
    if (format !== 'ustar') assert.equal(got[3]!.text, 'long one');
  }
});

test('tar: truncated and non-tar input raise TarError', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.txt'), 'y'.repeat(3000));
  const tar = path.join(dir, 'a.tar');
  execFileSync('tar', ['-cf', tar, '-C', dir, 'a.txt']);
  const cut = path.join(dir, 'cut.tar');
  fs.writeFileSync(cut, fs.readFileSync(tar).subarray(0, 512 + 1000));
  await assert.rejects(entries(cut), (e: Error) => e instanceof TarError && /truncated/.test(e.message));
  const junk = path.join(dir, 'junk.tar');
  fs.writeFileSync(junk, Buffer.alloc(1024, 65));
  await assert.rejects(entries(junk), (e: Error) => e instanceof TarError && /checksum/.test(e.message));
});

test('wds: key/extension split and shard brace patterns', () => {
  assert.deepEqual(splitKey('dir/000123.jpg'), { key: 'dir/000123', ext: 'jpg' });
  assert.deepEqual(splitKey('a/b.c/x.seg.json'), { key: 'a/b.c/x', ext: 'seg.json' });
  assert.deepEqual(expandShards('s-{08..11}.tar'), ['s-08.tar', 's-09.tar', 's-10.tar', 's-11.tar']);
});

test('wds: pairs from KEY.png + KEY.txt / KEY.json, bad groups reported, shards streamed in order', async () => {
  const dir = tmpDir();
  const src = path.join(dir, 'src');
  await writeGradientPng(path.join(src, '0001.png'), 8, 6);
  fs.writeFileSync(path.join(src, '0001.txt'), 'a red six ');
  await writeGradientPng(path.join(src, '0002.png'), 8, 6);
  fs.writeFileSync(path.join(src, '0002.json'), JSON.stringify({ caption: 'a blue coat', url: 'x' }));
  await writeGradientPng(path.join(src, '0003.png'), 8, 6); // no caption
  fs.writeFileSync(path.join(src, '0004.txt'), 'caption without image');
  await writeGradientPng(path.join(src, '0005.png'), 8, 6);
  fs.writeFileSync(path.join(src, '0005.txt'), '   ');
  execFileSync('tar', ['-cf', path.join(dir, 'shard-0.tar'), '-C', src, '0001.png', '0001.txt', '0002.png', '0002.json']);
  execFileSync('tar', ['-cf', path.join(dir, 'shard-1.tar'), '-C', src, '0003.png', '0004.txt', '0005.png', '0005.txt']);
  const issues: DataIssue[] = [];
  const got: Sample[] = [];
  for await (const s of openWds(path.join(dir, 'shard-{0..1}.tar')).samples((i) => issues.push(i))) got.push(s);
  assert.deepEqual(got.map((s) => [s.caption, s.record, path.basename(s.source)]), [
    ['a red six', 'key 0001', 'shard-0.tar'], ['a blue coat', 'key 0002', 'shard-0.tar']]);
  assert.ok(got[0]!.image instanceof Uint8Array && got[0]!.image[1] === 0x50); // PNG bytes ("\x89PNG")
  assert.deepEqual(issues.map((i) => `${path.basename(i.file)}: ${i.record}: ${i.message}`), [
    'shard-1.tar: key 0003: no caption member (.txt or .json)',
    'shard-1.tar: key 0004: no image member (.jpg/.jpeg/.png/.webp)',
    'shard-1.tar: key 0005: empty caption',
  ]);
  // A truncated shard: the pairs before the cut survive, then one issue.
  const whole = fs.readFileSync(path.join(dir, 'shard-0.tar'));
  const jsonHeader = whole.indexOf('0002.json');
  fs.writeFileSync(path.join(dir, 'cut.tar'), whole.subarray(0, jsonHeader + 512 + 10)); // inside 0002.json's data
  const cutIssues: DataIssue[] = [];
  const cutGot: Sample[] = [];
  for await (const s of readShard(path.join(dir, 'cut.tar'), (i) => cutIssues.push(i))) cutGot.push(s);
  assert.equal(cutGot.length, 1);
  assert.equal(cutIssues.length, 1);
  assert.match(cutIssues[0]!.message, /truncated archive/);
  // A missing shard is one issue, not a crash.
  const missing: DataIssue[] = [];
  for await (const _ of readShard(path.join(dir, 'nope.tar'), (i) => missing.push(i))) { /* none */ }
  assert.match(missing[0]!.message, /cannot read file \(ENOENT\)/);
});
