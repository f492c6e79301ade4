// The bugs the fuzz targets (and reading the parsers for them) found, one input each: every one used to escape as
// a TypeError / plain Error, pollute Object.prototype, take seconds, or be accepted as a broken value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { isDetclipError } from '../../src/errors.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { parseSafetensorsBytes } from '../../src/io/safetensorsFormat.ts';
import { readTar } from '../../src/data/tarStream.ts';
import { readShard } from '../../src/data/wdsReader.ts';
import { openPairs } from '../../src/data/pairsReader.ts';
import { openCoco } from '../../src/data/cocoReader.ts';
import { applyOverrides, resolveTrainConfig } from '../../src/train/configOverrides.ts';
import { preset } from '../../src/train/trainConfig.ts';
import { parseStrict } from '../../src/config/strict.ts';
import { dataConfigSchema } from '../../src/data/config.ts';
import { readModelConfig } from '../../src/model/detclip.ts';
import { inferenceSettings } from '../../src/infer/settings.ts';
import { readForeignTextConfig } from '../../src/model/text/hfConfig.ts';
import { MODEL_PRESETS } from '../../src/config/model.ts';
import type { DataIssue } from '../../src/data/types.ts';
import { tarArchive } from '../../bench/fuzz/tarWriter.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-regress-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: string | Uint8Array): string => { const f = path.join(dir, name); fs.writeFileSync(f, data); return f; };
/** Throws a DetclipError whose message matches `re` (and so names the file when re does). */
const own = (re: RegExp) => (e: unknown): boolean => isDetclipError(e) && re.test(e.message);

function st(header: unknown, data = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

test('safetensors: offsets that are not integers and a non-string __metadata__ are file errors, not TypeErrors', () => {
  const f = file('a.safetensors', st({ w: { dtype: 'F32', shape: [1], data_offsets: ['0', 4] } }, Buffer.alloc(4)));
  assert.throws(() => readSafetensors(f), own(/a\.safetensors: tensor 'w': bad data_offsets/));
  const g = file('b.safetensors', st({ w: { dtype: 'F32', shape: [1], data_offsets: [0.5, 4.5] } }, Buffer.alloc(5)));
  assert.throws(() => readSafetensors(g), own(/b\.safetensors: .*bad data_offsets/));
  assert.throws(() => parseSafetensorsBytes(st({ __metadata__: { a: 1 } }), 'm.safetensors'), own(/m\.safetensors: .*__metadata__/));
  assert.throws(() => readSafetensors(file('c.safetensors', 'garbage')), own(/c\.safetensors/));
});

test('tar: a negative or non-octal size field is a TarError (was a NaN-sized entry), a huge one is refused before reading', async () => {
  const entries = async (bytes: Uint8Array): Promise<unknown[]> => { const out = []; for await (const e of readTar(Readable.from([Buffer.from(bytes)]))) out.push(e); return out; };
  for (const declaredSize of ['-1', 'zz', '1e3']) {
    await assert.rejects(entries(tarArchive([{ name: 'a.txt', data: Buffer.from('x'), declaredSize }])), own(/bad size field/), declaredSize);
  }
  const huge = tarArchive([{ name: 'a.txt', data: Buffer.from('x'), declaredSize: '77777777777' }]);
  const f = file('huge.tar', huge);
  const issues: DataIssue[] = [];
  for await (const _ of readShard(f, (i) => issues.push(i))) { /* none */ }
  assert.equal(issues.length, 1);
  assert.match(issues[0]!.message, /declares 8589934591 bytes, more than the archive holds/);
});

test('readers: a folder or a missing file given as the data file is one error naming it, not EISDIR/ENOENT', async () => {
  const issues: DataIssue[] = [];
  for await (const _ of readShard(dir, (i) => issues.push(i))) { /* none */ }
  assert.deepEqual(issues.map((i) => [i.file, i.record]), [[dir, 'shard']]);
  for (const f of [dir, path.join(dir, 'missing.jsonl')]) {
    await assert.rejects(async () => { for await (const _ of openPairs(f).samples(() => {})) { /* none */ } }, own(new RegExp(`${f.replace(/[.]/g, '\\.')}: cannot read file`)));
  }
  assert.throws(() => openCoco(file('x.json', '{')), own(/x\.json: malformed JSON/));
});

test('overrides and config files cannot reach Object.prototype', () => {
  for (const o of ['__proto__.polluted=1', 'constructor.prototype.polluted=1', 'train.__proto__.polluted=1']) {
    assert.throws(() => applyOverrides(preset('tiny'), [o]), own(/is not a config key/), o);
  }
  const f = file('t.json', '{"__proto__": {"polluted": 1}}');
  assert.throws(() => resolveTrainConfig({ file: f }), own(/t\.json: '__proto__' is not a config key/));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('an unknown key of a megabyte is reported at once, shortened (was 15 s of edit distance and a 1 MB message)', () => {
  const t0 = performance.now();
  assert.throws(() => parseStrict(dataConfigSchema, { sources: [], ['x'.repeat(1e6)]: 1 }, 'data.yaml'), (e: Error) => isDetclipError(e) && e.message.length < 200 && /1000000 characters/.test(e.message));
  assert.ok(performance.now() - t0 < 500);
});

test("config.json: null, or an unusable 'inference' section, is an error naming the file", () => {
  assert.throws(() => readModelConfig(file('config.json', 'null')), own(/config\.json: must be a JSON object/));
  const cfg = { cfg: MODEL_PRESETS.tiny };
  for (const inference of [{ padDivisor: 0 }, { resize: { mode: 'square', size: 1e9 } }, { normalization: { mean: [0, 0, 0], std: [0, 1, 1] } }, 'x']) {
    assert.throws(() => inferenceSettings(cfg, { inference }, 'm/config.json'), own(/m\/config\.json: inference/), JSON.stringify(inference));
  }
  assert.deepEqual(inferenceSettings(cfg, {}, 'm/config.json').resize, { mode: 'square', size: 128 });
});

test('open_clip config: a huge mlp_ratio is an error, not an Infinity MLP width', () => {
  const f = file('open_clip.json', JSON.stringify({ embed_dim: 64, text_cfg: { width: 64, mlp_ratio: 1e308 } }));
  assert.throws(() => readForeignTextConfig(f), own(/open_clip\.json: text_cfg: .*not a usable MLP width/));
});

test('YAML configs do not print process warnings from library code', () => {
  const warned: string[] = [];
  const on = (w: Error): void => { warned.push(w.message); };
  process.on('warning', on);
  try {
    assert.throws(() => resolveTrainConfig({ file: file('w.yaml', 'train:\n !lr 0.001\n') }), own(/w\.yaml/));
  } finally {
    process.off('warning', on);
  }
  return new Promise<void>((r) => setImmediate(() => { assert.deepEqual(warned, []); r(); }));
});
