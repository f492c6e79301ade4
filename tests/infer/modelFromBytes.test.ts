import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setupBackend, expectNoLeak } from '../helpers/tf.ts';
import { parseSafetensorsBytes } from '../../src/io/safetensorsFormat.ts';
import { modelFromBytes } from '../../src/infer/modelFromBytes.ts';
import { loadModelDir } from '../../src/model/detclip.ts';
import { inferenceSettings } from '../../src/infer/settings.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { makeTinyModelDir } from './tinyModel.ts';

before(setupBackend);

/** A safetensors file built by hand: header JSON padded to 8 bytes, then the raw little-endian data. */
function handMade(header: Record<string, unknown>, data: number[]): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  out.set(data, 8 + json.length);
  return out;
}

test('parseSafetensorsBytes: F32, F16, BF16 and I32 from hand-made bytes', () => {
  const bytes = handMade({
    __metadata__: { format: 'pt' },
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    h: { dtype: 'F16', shape: [3], data_offsets: [8, 14] },
    b: { dtype: 'BF16', shape: [2], data_offsets: [14, 18] },
    i: { dtype: 'I32', shape: [1], data_offsets: [18, 22] },
  }, [
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc1, // F32 1, -10
    0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c,             // F16 1, -2, +inf
    0x80, 0x3f, 0x49, 0x40,                         // BF16 1, 3.140625
    0xfe, 0xff, 0xff, 0xff,                         // I32 -2
  ]);
  const t = parseSafetensorsBytes(bytes);
  assert.deepEqual([...t.keys()], ['a', 'h', 'b', 'i']);
  assert.deepEqual(Array.from(t.get('a')!.data), [1, -10]);
  assert.deepEqual(Array.from(t.get('h')!.data), [1, -2, Infinity]);
  assert.deepEqual(Array.from(t.get('b')!.data), [1, 3.140625]);
  assert.ok(t.get('i')!.data instanceof Int32Array);
  assert.deepEqual(Array.from(t.get('i')!.data), [-2]);
  assert.throws(() => parseSafetensorsBytes(bytes.subarray(0, bytes.length - 1), 'm.st'), /m\.st: tensor 'i': data runs past the end/);
  assert.throws(() => parseSafetensorsBytes(new Uint8Array(4), 'm.st'), /m\.st: truncated safetensors file/);
});

test('modelFromBytes: the same parameters and settings as loadModelDir; the same structure as buildDetClip', async () => {
  const dir = makeTinyModelDir({ enrich: true });
  const cfgJson = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const bytes = fs.readFileSync(path.join(dir, 'model.safetensors'));
  const fileTensors = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
  for (const [name, t] of parseSafetensorsBytes(bytes)) assert.deepEqual(t.data, fileTensors.get(name)!.data, name);
  await expectNoLeak(() => {
    const { model, settings } = modelFromBytes(cfgJson, bytes, 'served');
    const ref = loadModelDir(dir);
    assert.deepEqual(settings, inferenceSettings(ref.model, ref.extra));
    assert.deepEqual(settings, { resize: { mode: 'square', size: 64 }, padDivisor: 32, enrich: true });
    const mine = model.store.entries();
    const theirs = ref.model.store.entries();
    assert.deepEqual(mine.map(([n, v]) => [n, v.shape]), theirs.map(([n, v]) => [n, v.shape]));
    for (let i = 0; i < mine.length; i++) assert.deepEqual(mine[i]![1].dataSync(), theirs[i]![1].dataSync(), mine[i]![0]);
    for (const m of [model, ref.model]) m.dispose();
  });
});

test('modelFromBytes: errors name the served files; nothing is left allocated', async () => {
  const dir = makeTinyModelDir();
  const cfgJson = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const bytes = fs.readFileSync(path.join(dir, 'model.safetensors'));
  await expectNoLeak(() => {
    const wrong = structuredClone(cfgJson);
    wrong.model.fpn.outChannels = 32;
    assert.throws(() => modelFromBytes(wrong, bytes, 'm/'), / m\/model\.safetensors: tensor '.+' has shape \[.+\] but the model expects/);
    assert.throws(() => modelFromBytes({ model: { nope: 1 } }, bytes, 'm'), /m\/config\.json: model/);
    assert.throws(() => modelFromBytes(cfgJson, bytes.subarray(0, 1000), 'm'), /m\/model\.safetensors: .*truncated/);
  });
});
