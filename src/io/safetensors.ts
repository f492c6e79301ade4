// safetensors reader/writer (https://github.com/huggingface/safetensors format):
// u64 LE header length N, N bytes of JSON header, then raw little-endian tensor bytes.
// Typed-array fast paths assume a little-endian host (x86-64, arm64).
// The writer embeds detclip's checksum (safetensorsFormat.ts: `__metadata__` 'detclip.crc32'); the reader checks it
// when present, in a separate pass over the file in 4 MiB chunks.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { atomicWriteFileSync } from './atomicWrite.ts';
import { crc32 as crc32js, crcHex } from './crc32.ts';
import {
  checkCrc, crcDigitsAt, crcHead, decodeTensor, headerLength, parseHeader, ST_CRC_KEY, ST_CRC_PLACEHOLDER, stFail as fail,
  type StHeader, type StTensor,
} from './safetensorsFormat.ts';

export type { StDtype, StEntry, StHeader, StTensor } from './safetensorsFormat.ts';
export { ST_CRC_KEY } from './safetensorsFormat.ts';

/** CRC-32 in C where this Node has it (20.15+), else the same function in JS. */
const crc32: (b: Uint8Array, prev?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (b, prev = 0) => zlib.crc32(b, prev) : crc32js;

/** Reads the header: its 8 + N raw bytes and the parsed, checked header. */
function readHead(file: string, fd: number, size: number): { first8: Buffer; raw: Buffer; header: StHeader } {
  const first8 = Buffer.alloc(8);
  fs.readSync(fd, first8, 0, 8, 0);
  const n = headerLength(file, first8, size);
  const raw = Buffer.alloc(n);
  fs.readSync(fd, raw, 0, n, 8);
  return { first8, raw, header: parseHeader(file, raw.toString('utf8'), size, 8 + n) };
}

function open(file: string): number {
  try { return fs.openSync(file, 'r'); } catch (e) { return fail(file, `cannot open: ${(e as NodeJS.ErrnoException).code}`); }
}

/** Reads only the header (8 + N bytes), not the tensor data (so the checksum is not checked). */
export function readSafetensorsHeader(file: string): StHeader {
  const fd = open(file);
  try {
    return readHead(file, fd, fs.fstatSync(fd).size).header;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads all (or the named) tensors. Each tensor's bytes are read on their own, never the whole file at once.
 * `bytes` is the file size; metadata[ST_CRC_KEY], when present, has been checked against the whole file.
 */
export function readSafetensors(file: string, names?: string[]): { tensors: Map<string, StTensor>; metadata: Record<string, string>; bytes: number } {
  const fd = open(file);
  const tensors = new Map<string, StTensor>();
  try {
    const size = fs.fstatSync(fd).size;
    const { first8, raw, header: h } = readHead(file, fd, size);
    const stored = h.metadata[ST_CRC_KEY];
    if (stored !== undefined) {
      let c = crc32(crcHead(file, first8, raw, stored));
      const chunk = Buffer.alloc(Math.min(4 << 20, Math.max(1, size - h.dataStart)));
      for (let pos = h.dataStart; pos < size;) {
        const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
        if (got <= 0) fail(file, 'truncated while reading');
        c = crc32(chunk.subarray(0, got), c);
        pos += got;
      }
      checkCrc(file, stored, c);
    }
    for (const name of names ?? [...h.entries.keys()]) {
      const e = h.entries.get(name) ?? fail(file, `no tensor named '${name}'`);
      const [b, end] = e.dataOffsets;
      const buf = Buffer.alloc(end - b);
      const got = fs.readSync(fd, buf, 0, buf.length, h.dataStart + b);
      if (got !== buf.length) fail(file, `tensor '${name}': truncated data`);
      tensors.set(name, decodeTensor(file, name, e, buf));
    }
    return { tensors, metadata: h.metadata, bytes: size };
  } finally {
    fs.closeSync(fd);
  }
}

export interface StWriteTensor { dtype?: 'F32' | 'I32' | 'I64'; shape: number[]; data: ArrayLike<number> }

/**
 * Writes tensors (in the given order) atomically: temp file + rename, with detclip's checksum in the metadata
 * (unless `checksum: false`). Returns the file size and the checksum.
 */
export function writeSafetensors(file: string, tensors: Map<string, StWriteTensor> | Record<string, StWriteTensor>,
  metadata: Record<string, string> = {}, o: { checksum?: boolean } = {}): { bytes: number; crc32?: string } {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const withCrc = o.checksum ?? true;
  const meta = withCrc ? { ...metadata, [ST_CRC_KEY]: ST_CRC_PLACEHOLDER } : metadata;
  const header: Record<string, unknown> = {};
  if (Object.keys(meta).length) header.__metadata__ = meta;
  const bufs: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of list) {
    const dtype = t.dtype ?? 'F32';
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n !== t.data.length) throw new Error(`writeSafetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    let buf: Uint8Array;
    if (dtype === 'F32') buf = t.data instanceof Float32Array ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : new Uint8Array(Float32Array.from(t.data).buffer); // LE hosts
    else if (dtype === 'I32') buf = t.data instanceof Int32Array ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : new Uint8Array(Int32Array.from(t.data).buffer);
    else buf = new Uint8Array(BigInt64Array.from(Array.from(t.data, (v) => BigInt(v))).buffer);
    header[name] = { dtype, shape: t.shape, data_offsets: [off, off + buf.length] };
    off += buf.length;
    bufs.push(buf);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const head = Buffer.from(json, 'utf8');
  let hex: string | undefined;
  if (withCrc) {
    let c = crc32(head, crc32(len));
    for (const b of bufs) c = crc32(b, c);
    hex = crcHex(c);
    head.write(hex, crcDigitsAt(head, ST_CRC_PLACEHOLDER), 'latin1');
  }
  atomicWriteFileSync(file, [len, head, ...bufs]);
  return { bytes: 8 + head.length + off, ...(hex ? { crc32: hex } : {}) };
}
