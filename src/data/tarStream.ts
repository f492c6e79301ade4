// A small streaming tar reader (ustar, pax 'x' headers, GNU long names) over a Node readable stream:
// entries come out one by one without loading the archive, as WebDataset shards need.
import type { Readable } from 'node:stream';
import { UserError } from '../errors.ts';

export interface TarEntry {
  name: string;
  type: 'file' | 'directory' | 'other';
  size: number;
  data: Uint8Array;       // the file's bytes (empty for non-files)
}

export class TarError extends UserError { override name = 'TarError'; }

const BLOCK = 512;
/** Largest entry buffered when the archive's size is not known (a shard member is one image or caption). */
export const MAX_ENTRY_BYTES = 1 << 30;

/** Reads exactly n bytes from a chunk queue fed by an async iterator of Buffers. */
class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** n bytes, or fewer only when the stream ended (the caller decides whether that is truncation). */
  async read(n: number): Promise<Buffer> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) { this.done = true; break; }
      const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      this.chunks.push(c);
      this.have += c.length;
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const take = Math.min(n, all.length);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.chunks = rest.length ? [rest] : [];
    this.have = rest.length;
    return out;
  }
}

const cstr = (b: Buffer, off: number, len: number): string => {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return s.subarray(0, z < 0 ? len : z).toString('utf8');
};

/** A numeric header field: octal text or GNU base-256 (sizes >= 8 GiB); NaN when it is neither. */
function octal(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) { // GNU base-256 for sizes >= 8 GiB
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(b, off, len).trim();
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === octal(h, 148, 8);
}

/** Parses pax extended header records "LEN key=value\n". */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString('utf8'), 10);
    if (!(len > 0)) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * Streams the entries of a tar archive. Throws TarError on a bad header or a truncated archive. `maxBytes` (the
 * archive's size, when known) bounds what a header's size field can make it buffer: a larger entry is refused
 * before anything is read into memory.
 */
export async function* readTar(stream: Readable | AsyncIterable<Buffer>, opts: { maxBytes?: number } = {}): AsyncGenerator<TarEntry> {
  const maxBytes = opts.maxBytes ?? MAX_ENTRY_BYTES;
  const reader = new ByteReader((stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]());
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  let offset = 0;
  for (;;) {
    const h = await reader.read(BLOCK);
    if (h.length === 0) return; // archive without end blocks: accept
    if (h.length < BLOCK) throw new TarError(`truncated archive (partial header at byte ${offset})`);
    offset += BLOCK;
    if (h.every((v) => v === 0)) return; // end-of-archive marker
    if (!checksumOk(h)) throw new TarError(`bad header checksum at byte ${offset - BLOCK} (not a tar file or corrupt)`);
    const size = octal(h, 124, 12);
    const typeflag = String.fromCharCode(h[156]!);
    if (!Number.isSafeInteger(size) || size < 0) throw new TarError(`bad size field at byte ${offset - BLOCK} (not a tar file or corrupt)`);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (offset + padded > Math.min(maxBytes + BLOCK, Number.MAX_SAFE_INTEGER) || padded > MAX_ENTRY_BYTES) {
      throw new TarError(`truncated archive (entry '${cstr(h, 0, 100)}' at byte ${offset - BLOCK} declares ${size} bytes, more than the archive holds)`);
    }
    const body = await reader.read(padded);
    if (body.length < padded) throw new TarError(`truncated archive (entry '${cstr(h, 0, 100)}' needs ${size} bytes, got ${Math.min(size, body.length)})`);
    offset += padded;
    const data = body.subarray(0, size);
    if (typeflag === 'L') { longName = cstr(data, 0, data.length); continue; }
    if (typeflag === 'x') { pax = parsePax(data); continue; }
    if (typeflag === 'g') continue; // global pax header: nothing we use
    const magic = cstr(h, 257, 6);
    const prefix = magic.startsWith('ustar') ? cstr(h, 345, 155) : '';
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    longName = undefined;
    pax = {};
    const type = typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'directory' : 'other';
    yield { name, type, size, data: type === 'file' ? new Uint8Array(data) : new Uint8Array(0) };
  }
}
