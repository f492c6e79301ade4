// safetensors reader/writer (https://github.com/huggingface/safetensors format):
// u64 LE header length N, N bytes of JSON header, then raw little-endian tensor bytes.
// Typed-array fast paths assume a little-endian host (x86-64, arm64).
import fs from 'node:fs';
import { atomicWriteFileSync } from './atomicWrite.ts';

export type StDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'U8' | 'I8' | 'BOOL';
const BYTES: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8, U8: 1, I8: 1, BOOL: 1 };

export interface StEntry { dtype: StDtype; shape: number[]; dataOffsets: [number, number] }
export interface StHeader { entries: Map<string, StEntry>; metadata: Record<string, string>; dataStart: number }
/** A loaded tensor: floats as Float32Array (F16/BF16/F64 converted), ints as Int32Array (I64 checked to fit). */
export interface StTensor { dtype: StDtype; shape: number[]; data: Float32Array | Int32Array }

class SafetensorsError extends Error { override name = 'SafetensorsError'; }
const fail = (file: string, msg: string): never => { throw new SafetensorsError(`${file}: ${msg}`); };

function parseHeader(file: string, json: string, fileSize: number, dataStart: number): StHeader {
  let raw: Record<string, unknown>;
  try { raw = JSON.parse(json); } catch { return fail(file, 'bad safetensors header (not JSON)'); }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(file, 'bad safetensors header (not an object)');
  const entries = new Map<string, StEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(raw)) {
    if (name === '__metadata__') { metadata = (v ?? {}) as Record<string, string>; continue; }
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || typeof e.dtype !== 'string' || !(e.dtype in BYTES)) fail(file, `tensor '${name}': unsupported dtype ${e?.dtype}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(file, `tensor '${name}': bad shape`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) fail(file, `tensor '${name}': bad data_offsets`);
    const [b, end] = e.data_offsets!;
    const n = e.shape!.reduce((a, d) => a * d, 1);
    if (end - b !== n * BYTES[e.dtype as StDtype]) {
      fail(file, `tensor '${name}': shape [${e.shape}] ${e.dtype} needs ${n * BYTES[e.dtype as StDtype]} bytes but offsets give ${end - b}`);
    }
    if (b < 0 || dataStart + end > fileSize) fail(file, `tensor '${name}': data runs past the end of the file (truncated?)`);
    entries.set(name, { dtype: e.dtype as StDtype, shape: e.shape!, dataOffsets: [b, end] });
  }
  return { entries, metadata, dataStart };
}

/** Reads only the header (8 + N bytes), not the tensor data. */
export function readSafetensorsHeader(file: string): StHeader {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch (e) { return fail(file, `cannot open: ${(e as NodeJS.ErrnoException).code}`); }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 8) fail(file, 'truncated safetensors file (no header length)');
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(size - 8) || n > 100_000_000n) fail(file, `truncated or bad safetensors file (header length ${n} > file size)`);
    const hdr = Buffer.alloc(Number(n));
    fs.readSync(fd, hdr, 0, hdr.length, 8);
    return parseHeader(file, hdr.toString('utf8'), size, 8 + Number(n));
  } finally {
    fs.closeSync(fd);
  }
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function decode(file: string, name: string, e: StEntry, buf: Buffer): StTensor {
  const n = e.shape.reduce((a, d) => a * d, 1);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let data: Float32Array | Int32Array;
  switch (e.dtype) {
    case 'F32': data = new Float32Array(n); new Uint8Array(data.buffer).set(buf.subarray(0, n * 4)); break; // LE hosts
    case 'F64': data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getFloat64(i * 8, true); break;
    case 'F16': data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = f16ToF32(dv.getUint16(i * 2, true)); break;
    case 'BF16': {
      data = new Float32Array(n);
      const u = new Uint32Array(data.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      break;
    }
    case 'I32': data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getInt32(i * 4, true); break;
    case 'I64': {
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) fail(file, `tensor '${name}': int64 value ${v} does not fit int32`);
        data[i] = Number(v);
      }
      break;
    }
    case 'U8': case 'BOOL': data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getUint8(i); break;
    case 'I8': data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getInt8(i); break;
  }
  return { dtype: e.dtype, shape: e.shape, data };
}

/** Reads all (or the named) tensors. Each tensor's bytes are read on their own, never the whole file at once. */
export function readSafetensors(file: string, names?: string[]): { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  const h = readSafetensorsHeader(file);
  const fd = fs.openSync(file, 'r');
  const tensors = new Map<string, StTensor>();
  try {
    for (const name of names ?? [...h.entries.keys()]) {
      const e = h.entries.get(name) ?? fail(file, `no tensor named '${name}'`);
      const [b, end] = e.dataOffsets;
      const buf = Buffer.alloc(end - b);
      const got = fs.readSync(fd, buf, 0, buf.length, h.dataStart + b);
      if (got !== buf.length) fail(file, `tensor '${name}': truncated data`);
      tensors.set(name, decode(file, name, e, buf));
    }
  } finally {
    fs.closeSync(fd);
  }
  return { tensors, metadata: h.metadata };
}

export interface StWriteTensor { dtype?: 'F32' | 'I32' | 'I64'; shape: number[]; data: ArrayLike<number> }

/** Writes tensors (in the given order) atomically: temp file + rename. */
export function writeSafetensors(file: string, tensors: Map<string, StWriteTensor> | Record<string, StWriteTensor>,
  metadata: Record<string, string> = {}): void {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const bufs: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of list) {
    const dtype = t.dtype ?? 'F32';
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n !== t.data.length) throw new Error(`writeSafetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    let buf: Uint8Array;
    if (dtype === 'F32') buf = new Uint8Array(Float32Array.from(t.data).buffer); // LE hosts
    else if (dtype === 'I32') buf = new Uint8Array(Int32Array.from(t.data).buffer);
    else buf = new Uint8Array(BigInt64Array.from(Array.from(t.data, (v) => BigInt(v))).buffer);
    header[name] = { dtype, shape: t.shape, data_offsets: [off, off + buf.length] };
    off += buf.length;
    bufs.push(buf);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  atomicWriteFileSync(file, [len, Buffer.from(json, 'utf8'), ...bufs]);
}
