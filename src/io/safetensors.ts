// safetensors reader/writer (https://github.com/huggingface/safetensors format):
// u64 LE header length N, N bytes of JSON header, then raw little-endian tensor bytes.
// Typed-array fast paths assume a little-endian host (x86-64, arm64).
import fs from 'node:fs';
import { atomicWriteFileSync } from './atomicWrite.ts';
import { decodeTensor, headerLength, parseHeader, ST_BYTES, stFail as fail, type StHeader, type StTensor } from './safetensorsFormat.ts';

export type { StDtype, StEntry, StHeader, StTensor } from './safetensorsFormat.ts';

/** Reads only the header (8 + N bytes), not the tensor data. */
export function readSafetensorsHeader(file: string): StHeader {
  let fd: number;
  try { fd = fs.openSync(file, 'r'); } catch (e) { return fail(file, `cannot open: ${(e as NodeJS.ErrnoException).code}`); }
  try {
    const size = fs.fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = headerLength(file, lenBuf, size);
    const hdr = Buffer.alloc(n);
    fs.readSync(fd, hdr, 0, n, 8);
    return parseHeader(file, hdr.toString('utf8'), size, 8 + n);
  } finally {
    fs.closeSync(fd);
  }
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
      tensors.set(name, decodeTensor(file, name, e, buf));
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
