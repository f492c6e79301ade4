import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/io/safetensors.ts';
import { FIXTURES } from '../helpers/golden.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-st-'));

/** Builds a safetensors file by hand (independent of the writer). */
function handWrite(file: string, header: object, data: Buffer, pad = true): void {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(json), data]));
}

test('reads the golden ResNet file header without loading data, in state_dict order', () => {
  const h = readSafetensorsHeader(path.join(FIXTURES, 'golden/resnet_basic_1111.safetensors'));
  const names = [...h.entries.keys()];
  assert.equal(names[0], 'conv1.weight');
  assert.deepEqual(h.entries.get('conv1.weight')!.shape, [64, 3, 7, 7]);
  assert.equal(h.entries.get('conv1.weight')!.dtype, 'F32');
});

test('decodes F32, F16, BF16, I32, I64 written by hand', () => {
  const f = path.join(tmp, 'dtypes.safetensors');
  const f32 = Buffer.alloc(8); f32.writeFloatLE(1.5, 0); f32.writeFloatLE(-2.25, 4);
  const f16 = Buffer.from([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x35]); // 1, -2, 0.3125
  const bf16 = Buffer.from([0xc0, 0x3f, 0x80, 0xbf]); // 1.5, -1
  const i32 = Buffer.alloc(8); i32.writeInt32LE(7, 0); i32.writeInt32LE(-3, 4);
  const i64 = Buffer.alloc(8); i64.writeBigInt64LE(123456789n, 0);
  const parts = [f32, f16, bf16, i32, i64];
  let off = 0;
  const spec = [['a', 'F32', [2]], ['b', 'F16', [3]], ['c', 'BF16', [2]], ['d', 'I32', [2, 1]], ['e', 'I64', [1]]] as const;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  spec.forEach(([n, dt, shape], i) => { header[n] = { dtype: dt, shape, data_offsets: [off, off + parts[i]!.length] }; off += parts[i]!.length; });
  handWrite(f, header, Buffer.concat(parts));
  const { tensors, metadata } = readSafetensors(f);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...tensors.get('a')!.data], [1.5, -2.25]);
  assert.deepEqual([...tensors.get('b')!.data], [1, -2, 0.3125]);
  assert.deepEqual([...tensors.get('c')!.data], [1.5, -1]);
  assert.deepEqual([...tensors.get('d')!.data], [7, -3]);
  assert.deepEqual(tensors.get('d')!.shape, [2, 1]);
  assert.deepEqual([...tensors.get('e')!.data], [123456789]);
});

test('write then read round-trips, atomically (no temp file left)', () => {
  const f = path.join(tmp, 'rt.safetensors');
  writeSafetensors(f, { w: { shape: [2, 2], data: [1, 2, 3, 4.5] }, step: { dtype: 'I64', shape: [], data: [42] } }, { k: 'v' });
  const { tensors, metadata } = readSafetensors(f);
  assert.deepEqual([...tensors.get('w')!.data], [1, 2, 3, 4.5]);
  assert.deepEqual([...tensors.get('step')!.data], [42]);
  assert.equal(metadata.k, 'v');
  assert.equal(fs.readdirSync(tmp).filter((n) => n.endsWith('.tmp')).length, 0);
  const raw = fs.readFileSync(f);
  assert.equal(Number(raw.readBigUInt64LE(0)) % 8, 0, 'header padded to 8 bytes');
});

test('clear errors: truncated file, bad header, shape/size mismatch, missing file', () => {
  const f = path.join(tmp, 'bad.safetensors');
  const good = path.join(tmp, 'good.safetensors');
  writeSafetensors(good, { w: { shape: [4], data: [1, 2, 3, 4] } });
  fs.writeFileSync(f, fs.readFileSync(good).subarray(0, fs.statSync(good).size - 3));
  assert.throws(() => readSafetensors(f), /bad\.safetensors: tensor 'w': data runs past the end of the file/);
  fs.writeFileSync(f, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensors(f), /truncated safetensors file/);
  handWrite(f, {}, Buffer.alloc(0));
  fs.writeFileSync(f, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x:1')]));
  assert.throws(() => readSafetensors(f), /bad safetensors header \(not JSON\)/);
  handWrite(f, { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8));
  assert.throws(() => readSafetensors(f), /tensor 'w': shape \[3\] F32 needs 12 bytes but offsets give 8/);
  assert.throws(() => readSafetensors(path.join(tmp, 'nope.safetensors')), /nope\.safetensors: cannot open: ENOENT/);
});
