// The safetensors format itself, browser-safe (no node:*): header validation, tensor decoding and detclip's
// checksum. The file reader (safetensors.ts) and the in-memory reader (parseSafetensorsBytes) both use it.
//   u64 LE header length N | N bytes of JSON header | little-endian tensor bytes (offsets from the header's end)
// Files detclip writes carry `__metadata__` 'detclip.crc32': the CRC-32 of the whole file with those 8 hex digits
// read as '00000000' (header and data, so a damaged byte anywhere shows). Checked when present; foreign files
// (open_clip, HF) have none and load as before.
import { UserError } from '../errors.ts';
import { crc32, crcHex } from './crc32.ts';

export type StDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'U8' | 'I8' | 'BOOL';
export const ST_BYTES: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8, U8: 1, I8: 1, BOOL: 1 };

export interface StEntry { dtype: StDtype; shape: number[]; dataOffsets: [number, number] }
export interface StHeader { entries: Map<string, StEntry>; metadata: Record<string, string>; dataStart: number }
/** A loaded tensor: floats as Float32Array (F16/BF16/F64 converted), ints as Int32Array (I64 checked to fit). */
export interface StTensor { dtype: StDtype; shape: number[]; data: Float32Array | Int32Array }

export class SafetensorsError extends UserError { override name = 'SafetensorsError'; }
export const stFail = (where: string, msg: string): never => { throw new SafetensorsError(`${where}: ${msg}`); };

/** The header length from the first 8 bytes, checked against the file size. */
export function headerLength(where: string, first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.length < 8) stFail(where, 'truncated safetensors file (no header length)');
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8) || n > 100_000_000n) stFail(where, `truncated or bad safetensors file (header length ${n} > file size)`);
  return Number(n);
}

/** Parses and validates the JSON header (dtypes, shapes vs byte sizes, data inside the file). */
export function parseHeader(where: string, json: string, fileSize: number, dataStart: number): StHeader {
  let raw: Record<string, unknown>;
  try { raw = JSON.parse(json); } catch { return stFail(where, 'bad safetensors header (not JSON)'); }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) stFail(where, 'bad safetensors header (not an object)');
  const entries = new Map<string, StEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(raw)) {
    if (name === '__metadata__') {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string'))
        stFail(where, 'bad safetensors header (__metadata__ must map names to strings)');
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || typeof e.dtype !== 'string' || !(e.dtype in ST_BYTES)) stFail(where, `tensor '${name}': unsupported dtype ${e?.dtype}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) stFail(where, `tensor '${name}': bad shape`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || !e.data_offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      stFail(where, `tensor '${name}': bad data_offsets ${JSON.stringify(e.data_offsets)}`);
    const [b, end] = e.data_offsets!;
    const need = e.shape!.reduce((a, d) => a * d, 1) * ST_BYTES[e.dtype as StDtype];
    if (end - b !== need) stFail(where, `tensor '${name}': shape [${e.shape}] ${e.dtype} needs ${need} bytes but offsets give ${end - b}`);
    if (b < 0 || dataStart + end > fileSize) stFail(where, `tensor '${name}': data runs past the end of the file (truncated?)`);
    entries.set(name, { dtype: e.dtype as StDtype, shape: e.shape!, dataOffsets: [b, end] });
  }
  return { entries, metadata, dataStart };
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Decodes one tensor's bytes (exactly its data_offsets range). Typed-array fast paths assume a little-endian host. */
export function decodeTensor(where: string, name: string, e: StEntry, buf: Uint8Array): StTensor {
  const n = e.shape.reduce((a, d) => a * d, 1);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let data: Float32Array | Int32Array;
  switch (e.dtype) {
    case 'F32': data = new Float32Array(n); new Uint8Array(data.buffer).set(buf.subarray(0, n * 4)); break;
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
        if (v > 2147483647n || v < -2147483648n) stFail(where, `tensor '${name}': int64 value ${v} does not fit int32`);
        data[i] = Number(v);
      }
      break;
    }
    case 'U8': case 'BOOL': data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getUint8(i); break;
    case 'I8': data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = dv.getInt8(i); break;
  }
  return { dtype: e.dtype, shape: e.shape, data };
}

export const ST_CRC_KEY = 'detclip.crc32';
export const ST_CRC_PLACEHOLDER = '00000000';
const crcField = (hex: string): Uint8Array => new TextEncoder().encode(`"${ST_CRC_KEY}":"${hex}"`);

/** Where in the header bytes the checksum's 8 hex digits are (as written: `"detclip.crc32":"<hex>"`), or -1. */
export function crcDigitsAt(header: Uint8Array, hex: string): number {
  const pat = crcField(hex);
  outer: for (let i = header.length - pat.length; i >= 0; i--) {
    for (let k = 0; k < pat.length; k++) if (header[i + k] !== pat[k]) continue outer;
    return i + pat.length - 9;
  }
  return -1;
}

/** The first 8 + N bytes with the checksum digits zeroed: what the checksum covers before the data. */
export function crcHead(where: string, first8: Uint8Array, header: Uint8Array, hex: string): Uint8Array {
  if (!/^[0-9a-f]{8}$/.test(hex)) stFail(where, `damaged: checksum '${hex}' is not 8 hex digits`);
  const at = crcDigitsAt(header, hex);
  if (at < 0) stFail(where, 'damaged: the checksum field is not where detclip writes it');
  const head = new Uint8Array(8 + header.length);
  head.set(first8.subarray(0, 8));
  head.set(header, 8);
  head.set(new TextEncoder().encode(ST_CRC_PLACEHOLDER), 8 + at);
  return head;
}

/** Throws unless `actual` (the CRC-32 computed as described above) equals the stored hex. */
export function checkCrc(where: string, stored: string, actual: number): void {
  if (crcHex(actual) !== stored) stFail(where, `checksum mismatch (stored ${stored}, file gives ${crcHex(actual)}): the file is damaged or truncated`);
}

/** Every tensor and the metadata of a safetensors file already in memory (a browser fetch); checks the checksum. */
export function readSafetensorsBytes(bytes: ArrayBuffer | Uint8Array, where = 'safetensors'):
  { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const n = headerLength(where, u8.subarray(0, 8), u8.length);
  const header = u8.subarray(8, 8 + n);
  const h = parseHeader(where, new TextDecoder().decode(header), u8.length, 8 + n);
  const stored = h.metadata[ST_CRC_KEY];
  if (stored !== undefined) checkCrc(where, stored, crc32(u8.subarray(8 + n), crc32(crcHead(where, u8, header, stored))));
  const tensors = new Map<string, StTensor>();
  for (const [name, e] of h.entries) {
    tensors.set(name, decodeTensor(where, name, e, u8.subarray(h.dataStart + e.dataOffsets[0], h.dataStart + e.dataOffsets[1])));
  }
  return { tensors, metadata: h.metadata };
}

/** Every tensor of a safetensors file already in memory (a browser fetch); checks the checksum. */
export function parseSafetensorsBytes(bytes: ArrayBuffer | Uint8Array, where = 'safetensors'): Map<string, StTensor> {
  return readSafetensorsBytes(bytes, where).tensors;
}
