// CRC-32 (IEEE 802.3 / zlib / PNG), pure JS so the browser page can check model bytes too. Browser-safe (no node:*).
// Node code uses zlib.crc32 (the same function, in C) through src/io/safetensors.ts when it is available.

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256 * 4); // slice-by-4: t[k * 256 + b]
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  }
  return t;
}

/** CRC-32 of `bytes`, continuing from `prev` (the CRC of the bytes before them; 0 to start). */
export function crc32(bytes: Uint8Array, prev = 0): number {
  const t = (table ??= makeTable());
  let c = ~prev >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** 8 lower-case hex digits. */
export const crcHex = (c: number): string => (c >>> 0).toString(16).padStart(8, '0');
