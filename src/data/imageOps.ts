// Image decoding and augmentation with sharp (libvips): decode, resize, crop, flip, then normalise to float.
import sharp, { type Sharp } from 'sharp';
import { planAugment, transformBoxes, type AugmentDraw, type ResizeSpec } from './transforms.ts';

export interface Normalization { mean: [number, number, number]; std: [number, number, number] }
/** ImageNet statistics on 0..1 RGB. */
export const IMAGENET_NORM: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

// Fail on truncated/corrupt data instead of returning a half-grey image.
const open = (src: string | Uint8Array): Sharp => sharp(src as string | Buffer, { failOn: 'error' });

/** Header-only size of an encoded image. Throws on unreadable files. */
export async function imageSize(src: string | Uint8Array): Promise<{ width: number; height: number }> {
  const m = await open(src).metadata();
  if (!m.width || !m.height) throw new Error('image has no size');
  return { width: m.width, height: m.height };
}

/** Full decode to 8-bit RGB (detects truncated/corrupt files, which a header read does not). */
export async function decodeRgb(src: string | Uint8Array): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await open(src).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const rgb = info.channels === 3 ? data : toRgb(data, info.channels);
  return { data: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length), width: info.width, height: info.height };
}

function toRgb(data: Buffer, channels: number): Buffer {
  const n = data.length / channels;
  const out = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + Math.min(c, channels - 1)]!;
  return out;
}

/** 8-bit RGB -> normalised float32 ((v/255 - mean) / std), HWC. */
export function normalizeRgb(rgb: Uint8Array, norm: Normalization = IMAGENET_NORM, out = new Float32Array(rgb.length)): Float32Array {
  // out = v * a + b with a = 1 / (255 std), b = -mean / std; constants in locals keep the loop tight.
  const a0 = 1 / (255 * norm.std[0]), a1 = 1 / (255 * norm.std[1]), a2 = 1 / (255 * norm.std[2]);
  const b0 = -norm.mean[0] / norm.std[0], b1 = -norm.mean[1] / norm.std[1], b2 = -norm.mean[2] / norm.std[2];
  const n = rgb.length;
  for (let i = 0; i < n; i += 3) {
    out[i] = rgb[i]! * a0 + b0;
    out[i + 1] = rgb[i + 1]! * a1 + b1;
    out[i + 2] = rgb[i + 2]! * a2 + b2;
  }
  return out;
}

/** One image to load: what the workers receive (plain data, structured-clone friendly). */
export interface ImageJob {
  image: string | Uint8Array;
  refW?: number; refH?: number;     // the annotation's image size (boxes are in this frame)
  boxes: number[][];
  resize: ResizeSpec;
  draw: AugmentDraw;
  norm: Normalization;
  minBoxSize: number;
}

export interface LoadedImage {
  pixels: Float32Array;             // [outH, outW, 3] normalised
  width: number; height: number;    // outW, outH
  srcW: number; srcH: number;
  boxes: Float32Array;              // [n*4] kept boxes in output pixels
  kept: Int32Array;                 // [n] indices of kept boxes in the job's list
  dropped: number;                  // degenerate boxes dropped
  sizeMismatch: boolean;            // decoded size differs from the record's width/height
}

/** Decode + resize + crop + flip + normalise one image, and transform its boxes the same way. */
export async function loadImage(job: ImageJob): Promise<LoadedImage> {
  const { width: srcW, height: srcH } = await imageSize(job.image);
  const plan = planAugment(srcW, srcH, job.resize, job.draw);
  let img = open(job.image).removeAlpha().toColourspace('srgb')
    .resize(plan.resizeW, plan.resizeH, { fit: 'fill', kernel: 'linear' });
  // One libvips pipeline: extract() after resize() crops the resized image, but flop() runs before both, so
  // a flipped image is cropped at the mirrored offset (= the crop of the unflipped image, then flipped).
  if (plan.cropX || plan.cropY || plan.outW !== plan.resizeW || plan.outH !== plan.resizeH) {
    const left = plan.flip ? plan.resizeW - plan.cropX - plan.outW : plan.cropX;
    img = img.extract({ left, top: plan.cropY, width: plan.outW, height: plan.outH });
  }
  if (plan.flip) img = img.flop();
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== plan.outW || info.height !== plan.outH || info.channels !== 3)
    throw new Error(`decoder returned ${info.width}x${info.height}x${info.channels}, expected ${plan.outW}x${plan.outH}x3`);
  const refW = job.refW ?? srcW;
  const refH = job.refH ?? srcH;
  const r = transformBoxes(job.boxes, plan, job.minBoxSize, refW, refH);
  return {
    pixels: normalizeRgb(data, job.norm), width: plan.outW, height: plan.outH, srcW, srcH,
    boxes: Float32Array.from(r.boxes.flat()), kept: Int32Array.from(r.kept), dropped: r.dropped,
    sizeMismatch: refW !== srcW || refH !== srcH,
  };
}
