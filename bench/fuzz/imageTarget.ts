// Fuzz target for image decoding: PNG / JPEG / WebP / GIF files mutated, truncated, with the wrong magic, and
// with headers declaring huge sizes (PNG IHDR with its CRC fixed, JPEG SOF). Inference (`preprocess`) must give a
// UserError naming the image; the training/data-check decoders (imageSize, decodeRgb, loadImage) report any
// failure as an Error their callers turn into a skip/issue line; all of them within the bound, without
// allocating what a header declares.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { decodeRgb, imageSize, loadImage, IMAGENET_NORM } from '../../src/data/imageOps.ts';
import { preprocess } from '../../src/infer/preprocess.ts';
import { ensure, expectClean, FuzzFailure, mutatedBytes, randomBytes, type FuzzTarget } from './harness.ts';

interface ImageCtx { file: string; bases: Uint8Array[] }
type ImageInput = { bytes: Uint8Array; asBuffer: boolean };

function crc32(b: Uint8Array): number {
  let crc = 0xffffffff;
  for (const x of b) {
    crc ^= x;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG whose IHDR declares w x h (CRC fixed, so the decoder believes it). */
function pngWithSize(png: Uint8Array, w: number, h: number): Uint8Array {
  const b = Buffer.from(png);
  b.writeUInt32BE(w >>> 0, 16);
  b.writeUInt32BE(h >>> 0, 20);
  b.writeUInt32BE(crc32(b.subarray(12, 29)), 29);
  return new Uint8Array(b);
}

/** A JPEG whose first SOF marker declares w x h. */
function jpegWithSize(jpg: Uint8Array, w: number, h: number): Uint8Array {
  const b = Buffer.from(jpg);
  for (let i = 2; i + 9 < b.length; i++) {
    if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) { b.writeUInt16BE(h & 0xffff, i + 5); b.writeUInt16BE(w & 0xffff, i + 7); break; }
  }
  return new Uint8Array(b);
}

const sizes = fc.constantFrom([16000, 16000], [65535, 65535], [1, 268435455], [0, 10], [10, 0], [2 ** 31, 2], [30000, 9000], [9000, 9000]);

export const imageTarget: FuzzTarget<ImageCtx, ImageInput> = {
  name: 'image', about: 'preprocess (inference) and imageSize / decodeRgb / loadImage (training) on mutated, truncated, wrong-magic and huge-header images', boundMs: 8000, testRuns: 120,
  async setup(dir) {
    const w = 24, h = 18;
    const rgb = Buffer.alloc(w * h * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;
    const img = (): Sharp => sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
    const bases = [await img().png().toBuffer(), await img().jpeg().toBuffer(), await img().webp().toBuffer(), await img().gif().toBuffer()].map((b) => new Uint8Array(b));
    return { file: path.join(dir, 'image.png'), bases };
  },
  arbitrary: (c) => fc.record({
    bytes: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...c.bases).chain((b) => mutatedBytes(b, 4)) },
      { weight: 2, arbitrary: fc.tuple(sizes, fc.boolean()).map(([[w, h], png]) => (png ? pngWithSize(c.bases[0]!, w!, h!) : jpegWithSize(c.bases[1]!, w!, h!))) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...c.bases), fc.nat()).map(([b, n]) => b.subarray(0, n % b.length)) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...c.bases), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([b, m]) => { const x = b.slice(); x.set(m, 0); return x; }) },
      { weight: 1, arbitrary: randomBytes(512) },
    ),
    asBuffer: fc.boolean(),
  }),
  async run(c, input) {
    fs.writeFileSync(c.file, input.bytes);
    const name = input.asBuffer ? `${input.bytes.length}-byte image buffer` : c.file;
    const pre = await expectClean([name], () => preprocess(input.asBuffer ? input.bytes : c.file, { mode: 'square', size: 64 }, 32));
    if (pre) {
      ensure(pre.pixels.length === pre.width * pre.height * 3 && pre.validW <= pre.width && pre.validH <= pre.height, `preprocess gave ${pre.width}x${pre.height} for ${pre.pixels.length} values`);
      ensure(pre.pixels.every(Number.isFinite), 'non-finite pixels');
    }
    // The training decoders throw; their callers report `error.message`: it must be an Error with a message.
    const internal = async (what: string, f: () => Promise<unknown>): Promise<void> => {
      try { await f(); } catch (e) {
        if (e instanceof FuzzFailure) throw e;
        if (!(e instanceof Error) || !e.message) throw new FuzzFailure(`${what} threw ${String(e)} (not an Error with a message)`);
      }
    };
    await internal('imageSize', () => imageSize(c.file));
    await internal('decodeRgb', async () => {
      const d = await decodeRgb(c.file);
      ensure(d.data.length === d.width * d.height * 3, `decodeRgb: ${d.data.length} bytes for ${d.width}x${d.height}`);
    });
    await internal('loadImage', async () => {
      const r = await loadImage({ image: c.file, boxes: [[1, 1, 10, 10]], resize: { mode: 'square', size: 32 }, draw: { scale: 1, flip: true, cropU: 0.5, cropV: 0.5 }, norm: IMAGENET_NORM, minBoxSize: 1 });
      ensure(r.pixels.length === r.width * r.height * 3, 'loadImage: pixel count');
    });
  },
};
