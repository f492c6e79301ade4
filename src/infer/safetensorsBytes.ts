// safetensors from bytes already in memory (a browser fetch): u64 LE header length N, N bytes of JSON header,
// then little-endian tensor data. The Node reader (src/io/safetensors.ts) reads files piecewise instead.
export interface BytesTensor { dtype: string; shape: number[]; data: Float32Array | Int32Array }

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4 };

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Parses every tensor (F32, F16, BF16 as Float32Array; I32 as Int32Array). Errors start with `where`. */
export function parseSafetensorsBytes(bytes: ArrayBuffer | Uint8Array, where = 'safetensors'): Map<string, BytesTensor> {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const fail = (msg: string): never => { throw new Error(`${where}: ${msg}`); };
  if (u8.length < 8) fail('truncated safetensors file (no header length)');
  const n = Number(dv.getBigUint64(0, true));
  if (n > u8.length - 8) fail(`truncated or bad safetensors file (header length ${n} > file size)`);
  let header: Record<string, { dtype?: string; shape?: number[]; data_offsets?: [number, number] }>;
  try { header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + n))); } catch { return fail('bad safetensors header (not JSON)'); }
  const start = 8 + n;
  const out = new Map<string, BytesTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const size = BYTES[e?.dtype ?? ''] ?? fail(`tensor '${name}': unsupported dtype ${e?.dtype}`);
    const shape = e.shape ?? fail(`tensor '${name}': no shape`);
    const [b, end] = e.data_offsets ?? fail(`tensor '${name}': no data_offsets`);
    const count = shape.reduce((a, d) => a * d, 1);
    if (end - b !== count * size) fail(`tensor '${name}': shape [${shape}] ${e.dtype} needs ${count * size} bytes but offsets give ${end - b}`);
    if (b < 0 || start + end > u8.length) fail(`tensor '${name}': data runs past the end of the file (truncated?)`);
    const at = start + b;
    let data: Float32Array | Int32Array;
    if (e.dtype === 'I32') {
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getInt32(at + i * 4, true);
    } else {
      data = new Float32Array(count);
      if (e.dtype === 'F32') for (let i = 0; i < count; i++) data[i] = dv.getFloat32(at + i * 4, true);
      else if (e.dtype === 'F16') for (let i = 0; i < count; i++) data[i] = f16ToF32(dv.getUint16(at + i * 2, true));
      else {
        const u = new Uint32Array(data.buffer);
        for (let i = 0; i < count; i++) u[i] = dv.getUint16(at + i * 2, true) << 16;
      }
    }
    out.set(name, { dtype: e.dtype!, shape, data });
  }
  return out;
}
