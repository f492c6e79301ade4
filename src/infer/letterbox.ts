// The pure-JS half of inference preprocessing, shared by Node (sharp decodes and resizes) and the browser (a canvas
// does): normalise the resized 8-bit pixels and zero-pad bottom/right to the stride multiple.
import { planAugment, type ResizeSpec } from '../data/transforms.ts';
import { DEFAULT_NORMALIZATION, type Normalization } from './settings.ts';

export interface Preprocessed {
  pixels: Float32Array;           // [H, W, 3] normalised, zero-padded
  height: number; width: number;  // padded input size
  validH: number; validW: number; // resized image inside the padding
  srcH: number; srcW: number;     // original size
}

/** The size an image of srcW x srcH is resized to before padding (as the detection data at training). */
export function resizeTarget(srcW: number, srcH: number, resize: ResizeSpec): { width: number; height: number } {
  const p = planAugment(srcW, srcH, resize, { scale: 1, flip: false, cropU: 0, cropV: 0 });
  return { width: p.resizeW, height: p.resizeH };
}

/**
 * pixels: the resized image, 8-bit, `channels` per pixel (3 = RGB, 4 = RGBA from a canvas; alpha ignored).
 * Returns it normalised ((v/255 - mean) / std) and zero-padded to multiples of padDivisor.
 */
export function normalizeAndPad(pixels: ArrayLike<number>, validW: number, validH: number, channels: 3 | 4,
  src: { width: number; height: number }, padDivisor = 32, norm: Normalization = DEFAULT_NORMALIZATION): Preprocessed {
  if (pixels.length !== validW * validH * channels) {
    throw new Error(`normalizeAndPad: ${pixels.length} values, expected ${validW}x${validH}x${channels}`);
  }
  const width = Math.ceil(validW / padDivisor) * padDivisor;
  const height = Math.ceil(validH / padDivisor) * padDivisor;
  const out = new Float32Array(height * width * 3);
  // v * a + b with a = 1 / (255 std), b = -mean / std, as normalizeRgb in src/data/imageOps.ts.
  const a = norm.std.map((s) => 1 / (255 * s));
  const b = norm.mean.map((m, c) => -m / norm.std[c]!);
  for (let y = 0; y < validH; y++) {
    let i = y * validW * channels;
    let o = y * width * 3;
    for (let x = 0; x < validW; x++, i += channels, o += 3) {
      out[o] = pixels[i]! * a[0]! + b[0]!;
      out[o + 1] = pixels[i + 1]! * a[1]! + b[1]!;
      out[o + 2] = pixels[i + 2]! * a[2]! + b[2]!;
    }
  }
  return { pixels: out, height, width, validH, validW, srcH: src.height, srcW: src.width };
}
