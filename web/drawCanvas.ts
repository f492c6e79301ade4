// Draws an image and its detections on a canvas, in the same style as the CLI's PNGs (src/infer/drawStyle.ts).
import type { Detection } from '../src/infer/detectorCore.ts';
import { colorFor, drawSizes, labelText, textColorOn } from '../src/infer/drawStyle.ts';
import type { DrawableImage } from './browserDetector.ts';

/** Shows `image` on `canvas` (small images upscaled to minSide, large ones shrunk to maxSide) with the boxes. */
export function drawDetections(canvas: HTMLCanvasElement, image: DrawableImage, srcW: number, srcH: number,
  dets: Detection[], { minSide = 384, maxSide = 800 } = {}): void {
  const scale = Math.min(Math.max(1, minSide / Math.min(srcW, srcH)), maxSide / Math.max(srcW, srcH));
  canvas.width = Math.round(srcW * scale);
  canvas.height = Math.round(srcH * scale);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = scale < 1; // upscaled small images stay crisp
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  const { stroke, font } = drawSizes(canvas.width, canvas.height);
  ctx.font = `${font}px "DejaVu Sans", Arial, sans-serif`;
  ctx.textBaseline = 'top';
  for (const d of [...dets].sort((a, b) => a.score - b.score)) {
    const c = colorFor(d.labelIndex);
    const x = d.box.xmin * scale;
    const y = d.box.ymin * scale;
    const w = Math.max(1, (d.box.xmax - d.box.xmin) * scale);
    const h = Math.max(1, (d.box.ymax - d.box.ymin) * scale);
    ctx.strokeStyle = 'rgba(0,0,0,0.6)';
    ctx.lineWidth = stroke + 2;
    ctx.strokeRect(x, y, w, h);
    ctx.strokeStyle = c;
    ctx.lineWidth = stroke;
    ctx.strokeRect(x, y, w, h);
    const text = labelText(d);
    const tw = ctx.measureText(text).width + 6;
    const th = font + 4;
    const ty = y - th >= 0 ? y - th : y;
    const tx = Math.min(x, Math.max(0, canvas.width - tw));
    ctx.fillStyle = c;
    ctx.fillRect(tx, ty, tw, th);
    ctx.fillStyle = textColorOn(c);
    ctx.fillText(text, tx + 3, ty + 2);
  }
}
