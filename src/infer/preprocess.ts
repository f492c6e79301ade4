// Node inference preprocessing: decode (path, encoded bytes or raw pixels) and resize with sharp as at training,
// then normalise and pad (letterbox.ts, shared with the browser).
import sharp, { type Sharp } from 'sharp';
import type { ResizeSpec } from '../data/transforms.ts';
import { UserError } from '../errors.ts';
import { normalizeAndPad, resizeTarget, type Preprocessed } from './letterbox.ts';
import type { Normalization } from './settings.ts';

export type { Preprocessed } from './letterbox.ts';

/** Raw 8-bit pixels, row-major; channels 3 (RGB, the default) or 4 (RGBA, alpha ignored). */
export interface RawImage { data: Uint8Array; width: number; height: number; channels?: 3 | 4 }
/** A file path, encoded bytes (JPEG/PNG/WebP/... in a Buffer or Uint8Array) or raw pixels. */
export type ImageInput = string | Uint8Array | RawImage;

export const isRawImage = (x: ImageInput): x is RawImage => typeof x === 'object' && !(x instanceof Uint8Array) && 'data' in x;

export function describeInput(x: ImageInput): string {
  return typeof x === 'string' ? x : isRawImage(x) ? `raw ${x.width}x${x.height} image` : `${x.length}-byte image buffer`;
}

/** A sharp pipeline for any input form, and the original size. Throws on unreadable input. */
export async function openImage(input: ImageInput): Promise<{ img: Sharp; width: number; height: number }> {
  if (isRawImage(input)) {
    const { width, height } = input;
    const channels = input.channels ?? 3;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`bad raw size ${width}x${height}`);
    if (channels !== 3 && channels !== 4) throw new Error(`raw images have 3 or 4 channels, got ${channels}`);
    if (!(input.data instanceof Uint8Array)) throw new Error('raw image data must be a Uint8Array');
    if (input.data.length !== width * height * channels) {
      throw new Error(`raw image has ${input.data.length} bytes, expected ${width}x${height}x${channels}`);
    }
    return { img: sharp(input.data, { raw: { width, height, channels } }), width, height };
  }
  const img = sharp(input as string | Buffer, { failOn: 'error' });
  const m = await img.metadata();
  if (!m.width || !m.height) throw new Error('image has no size');
  // EXIF-rotated photos: boxes refer to the upright image.
  const swap = (m.orientation ?? 1) >= 5;
  return { img: img.rotate(), width: swap ? m.height : m.width, height: swap ? m.width : m.height };
}

export async function preprocess(input: ImageInput, resize: ResizeSpec, padDivisor = 32, norm?: Normalization): Promise<Preprocessed> {
  try {
    const { img, width: srcW, height: srcH } = await openImage(input);
    const t = resizeTarget(srcW, srcH, resize);
    // Decode fully first: libvips would otherwise shrink JPEG/WebP while decoding, so the same picture would give
    // different pixels (and detections) as a JPEG file, a WebP file or raw RGB.
    const full = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const { data, info } = await sharp(full.data, { raw: { width: full.info.width, height: full.info.height, channels: full.info.channels } })
      .resize(t.width, t.height, { fit: 'fill', kernel: 'linear' }).raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoder returned ${info.channels} channels`);
    return normalizeAndPad(data, info.width, info.height, 3, { width: srcW, height: srcH }, padDivisor, norm);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${describeInput(input)}: cannot read image (${(e as Error).message.split('\n')[0]})`);
  }
}
