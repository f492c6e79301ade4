// Damaged files: every single-bit flip and every truncation of a file detclip wrote is either refused with a
// UserError naming the file, or (a flip that only renames an unread JSON key) reads back exactly the original.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { tf, setupBackend } from '../helpers/tf.ts';
import { readSafetensors, writeSafetensors, ST_CRC_KEY } from '../../src/io/safetensors.ts';
import { readSafetensorsBytes } from '../../src/io/safetensorsFormat.ts';
import { crc32 } from '../../src/io/crc32.ts';
import { stampJson, verifyJson } from '../../src/io/integrity.ts';
import { ParamStore } from '../../src/model/params.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { loadCheckpoint, saveCheckpoint, CHECKPOINT_VERSION } from '../../src/train/checkpoint.ts';
import { UserError } from '../../src/errors.ts';

before(setupBackend);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-integrity-'));

const TENSORS = {
  w: { shape: [2, 3], data: Float32Array.from([0.5, -1, 2, 3.25, 0, 1e-3]) },
  n: { dtype: 'I32' as const, shape: [2], data: [7, -2] },
};
const plain = (m: Map<string, { shape: number[]; data: ArrayLike<number> }>): unknown =>
  Object.fromEntries([...m].map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }]));

/** `fn` throws a UserError naming `file`, or returns (the caller then compares the value). */
function refusedOrReturns<T>(file: string, fn: () => T): { refused: boolean; value?: T } {
  try {
    return { refused: false, value: fn() };
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${(e as Error).stack}`);
    assert.ok(e.message.includes(file), `error does not name ${file}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return { refused: true };
  }
}

test('CRC-32 matches zlib (the same function) on random lengths and continuation', () => {
  let seed = 1;
  for (let n = 0; n < 300; n += 7) {
    const b = Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    assert.equal(crc32(b), zlib.crc32(b));
    const k = n >> 1;
    assert.equal(crc32(b.subarray(k), crc32(b.subarray(0, k))), zlib.crc32(b));
  }
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the standard check value
});

test('safetensors: every bit flip and every truncation is refused (or harmless), in the file and in memory', () => {
  const file = path.join(tmp, 'a.safetensors');
  const w = writeSafetensors(file, TENSORS, { format: 'detclip' });
  const good = fs.readFileSync(file);
  assert.equal(w.bytes, good.length);
  const want = plain(readSafetensors(file).tensors);
  assert.equal(readSafetensors(file).metadata[ST_CRC_KEY], w.crc32);
  const bad = path.join(tmp, 'bad.safetensors');
  let refused = 0; let harmless = 0;
  for (let i = 0; i < good.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const b = Buffer.from(good);
      b[i]! ^= 1 << bit;
      fs.writeFileSync(bad, b);
      const r = refusedOrReturns(bad, () => plain(readSafetensors(bad).tensors));
      const m = refusedOrReturns(bad, () => plain(readSafetensorsBytes(b, bad).tensors));
      assert.equal(m.refused, r.refused, `byte ${i} bit ${bit}: file and memory readers agree`);
      if (r.refused) refused++;
      else { assert.deepEqual(r.value, want, `byte ${i} bit ${bit}: read silently wrong`); harmless++; }
    }
  }
  assert.ok(refused > good.length * 8 * 0.9, `${refused} refused, ${harmless} harmless`);
  for (let n = 0; n < good.length; n++) {
    fs.writeFileSync(bad, good.subarray(0, n));
    assert.ok(refusedOrReturns(bad, () => readSafetensors(bad)).refused, `truncated to ${n} bytes`);
    assert.ok(refusedOrReturns(bad, () => readSafetensorsBytes(good.subarray(0, n), bad)).refused, `in memory, ${n} bytes`);
  }
});

test('safetensors without detclip\'s checksum (other writers) still load; checksum: false writes none', () => {
  const file = path.join(tmp, 'nocrc.safetensors');
  const w = writeSafetensors(file, TENSORS, {}, { checksum: false });
  assert.equal(w.crc32, undefined);
  const r = readSafetensors(file);
  assert.equal(r.metadata[ST_CRC_KEY], undefined);
  assert.deepEqual(plain(r.tensors), plain(readSafetensors(path.join(tmp, 'a.safetensors')).tensors));
});

test('stamped JSON: any changed value is refused, re-indenting is not; files must come with crc32', () => {
  const where = 'x/state.json';
  const s = stampJson({ step: 3, a: [1, 2] }, { 'm.safetensors': { bytes: 10, crc32: '0000abcd' } });
  const back = JSON.parse(JSON.stringify(s, null, 4));
  assert.deepEqual(verifyJson(where, back).body, { step: 3, a: [1, 2], files: { 'm.safetensors': { bytes: 10, crc32: '0000abcd' } } });
  assert.throws(() => verifyJson(where, { ...back, step: 4 }), (e: Error) => e instanceof UserError && /x\/state\.json: checksum mismatch/.test(e.message));
  const { crc32: _c, ...noCrc } = back;
  assert.throws(() => verifyJson(where, noCrc), /x\/state\.json: damaged \(it records file checksums/);
  assert.throws(() => verifyJson(where, { ...back, crc32: 'xyz' }), /not 8 hex digits/);
  assert.deepEqual(verifyJson(where, { step: 1 }).body, { step: 1 }, 'unstamped JSON (older files) passes');
});

function saveSmall(dir: string, step: number, scale = 1): void {
  const store = ParamStore.create();
  store.add('head.weight', tf.tensor([1, 2, 3, 4, 5, 6].map((v) => v * scale), [2, 3]));
  const opt = new AdamW(store, { lr: 0.01 });
  const g = tf.onesLike(store.get('head.weight'));
  opt.applyGradients(new Map([['head.weight', g]]));
  g.dispose();
  saveCheckpoint(dir, { store, optimizer: opt, state: {
    version: CHECKPOINT_VERSION, step, rng: {}, data: {}, metrics: { ema: {}, evals: [], elapsed: 1 }, config: { train: { steps: 9 } },
  } });
  opt.dispose(); store.dispose();
}

test('checkpoint: a flipped bit in any file, a truncated file or a file from another save is refused naming it', () => {
  const dir = path.join(tmp, 'run', 'checkpoint');
  saveSmall(dir, 5);
  const other = path.join(tmp, 'other', 'checkpoint');
  saveSmall(other, 5, 2);
  assert.equal(loadCheckpoint(dir).state.step, 5);
  for (const f of ['model.safetensors', 'optimizer.safetensors', 'state.json']) {
    const file = path.join(dir, f);
    const good = fs.readFileSync(file);
    let seed = 7;
    for (let k = 0; k < 60; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const b = Buffer.from(good);
      const at = seed % good.length;
      b[at]! ^= 1 << ((seed >>> 16) % 8);
      fs.writeFileSync(file, b);
      const r = refusedOrReturns(f, () => loadCheckpoint(dir));
      if (!r.refused) {
        assert.deepEqual([...r.value!.params.get('head.weight')!.data], [1, 2, 3, 4, 5, 6], `${f} byte ${at}: silently wrong`);
        assert.equal(r.value!.state.step, 5);
      }
    }
    fs.writeFileSync(file, good.subarray(0, good.length - 3));
    assert.ok(refusedOrReturns(f, () => loadCheckpoint(dir)).refused, `${f} truncated`);
    fs.writeFileSync(file, good);
  }
  fs.copyFileSync(path.join(other, 'model.safetensors'), path.join(dir, 'model.safetensors'));
  assert.throws(() => loadCheckpoint(dir), /model\.safetensors: damaged or from another save/);
});
