// Augmentation geometry: where each image goes (resize, scale jitter, crop, flip) and what happens to its boxes.
// Random numbers are drawn up front (AugmentDraw) on the main thread, so results do not depend on which
// worker decodes the image or on the order in which workers finish.
import type { Rng } from '../ops/rng.ts';

export type ResizeSpec =
  | { mode: 'square'; size: number }                  // stretch to size x size (pairs, OVD-MNIST)
  | { mode: 'shortSide'; short: number; max: number }; // keep aspect: short side -> short, long side <= max

export interface AugmentSpec {
  resize: ResizeSpec;
  scaleJitter: [number, number];   // multiplies the target size; [1, 1] = off
  flipProb: number;                // horizontal flip probability
}

/** The random part of an augmentation, drawn before the image size is known. */
export interface AugmentDraw { scale: number; flip: boolean; cropU: number; cropV: number }

/** Everything needed to produce one augmented image from an original of (srcW, srcH). */
export interface AugmentPlan {
  srcW: number; srcH: number;      // original size
  resizeW: number; resizeH: number; // size after resizing (before the crop)
  cropX: number; cropY: number;    // crop offset in the resized image (square mode with scale > 1)
  outW: number; outH: number;      // valid output region (what the batch pads)
  flip: boolean;                   // flip applied to the output region
}

export function drawAugment(spec: AugmentSpec, rng: Rng): AugmentDraw {
  const [lo, hi] = spec.scaleJitter;
  // Draw all four always, so the stream stays aligned whatever the spec.
  const scale = lo + (hi - lo) * rng.next();
  const flip = rng.next() < spec.flipProb;
  return { scale, flip, cropU: rng.next(), cropV: rng.next() };
}

/** The deterministic plan for an image of (srcW, srcH), given the random draw. */
export function planAugment(srcW: number, srcH: number, resize: ResizeSpec, draw: AugmentDraw): AugmentPlan {
  if (resize.mode === 'square') {
    const target = Math.max(1, Math.round(resize.size * draw.scale));
    const out = Math.min(target, resize.size);
    // Larger than the canvas: a random crop (large-scale jitter); smaller: top-left, padded by collate.
    const cropX = Math.floor(draw.cropU * (target - out + 1));
    const cropY = Math.floor(draw.cropV * (target - out + 1));
    return { srcW, srcH, resizeW: target, resizeH: target, cropX, cropY, outW: out, outH: out, flip: draw.flip };
  }
  const short = resize.short * draw.scale;
  const max = resize.max * draw.scale;
  const s = Math.min(short / Math.min(srcW, srcH), max / Math.max(srcW, srcH));
  const resizeW = Math.max(1, Math.round(srcW * s));
  const resizeH = Math.max(1, Math.round(srcH * s));
  return { srcW, srcH, resizeW, resizeH, cropX: 0, cropY: 0, outW: resizeW, outH: resizeH, flip: draw.flip };
}

export interface BoxResult {
  boxes: number[][];   // kept boxes, xyxy in output pixels
  kept: number[];      // index of each kept box in the input list
  dropped: number;     // boxes that became degenerate (cropped away or thinner than minSize)
}

/**
 * Maps xyxy boxes given in a (refW, refH) frame (the annotation's image size; usually = srcW, srcH) through
 * the plan: scale, crop, clip to the output, flip. Boxes narrower/shorter than minSize after clipping are dropped.
 */
export function transformBoxes(boxes: number[][], plan: AugmentPlan, minSize = 1, refW = plan.srcW, refH = plan.srcH): BoxResult {
  const sx = plan.resizeW / refW;
  const sy = plan.resizeH / refH;
  const out: number[][] = [];
  const kept: number[] = [];
  let dropped = 0;
  boxes.forEach((b, i) => {
    let x1 = Math.min(Math.max(b[0]! * sx - plan.cropX, 0), plan.outW);
    const y1 = Math.min(Math.max(b[1]! * sy - plan.cropY, 0), plan.outH);
    let x2 = Math.min(Math.max(b[2]! * sx - plan.cropX, 0), plan.outW);
    const y2 = Math.min(Math.max(b[3]! * sy - plan.cropY, 0), plan.outH);
    if (x2 - x1 < minSize || y2 - y1 < minSize) { dropped++; return; }
    if (plan.flip) [x1, x2] = [plan.outW - x2, plan.outW - x1];
    out.push([x1, y1, x2, y2]);
    kept.push(i);
  });
  return { boxes: out, kept, dropped };
}
