// Draws detections on an image (Node): boxes, labels and scores in readable colours, via an SVG overlay (sharp).
import sharp from 'sharp';
import { atomicWriteFileSync } from '../io/atomicWrite.ts';
import type { Detection } from './detectorCore.ts';
import { colorFor, drawSizes, labelText, textColorOn } from './drawStyle.ts';
import { openImage, type ImageInput } from './preprocess.ts';

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG of width x height with the detections (boxes in original pixels, multiplied by scale). */
export function detectionsSvg(width: number, height: number, dets: Detection[], scale = 1): string {
  const { stroke, font } = drawSizes(width, height);
  // Lowest score first, so the best boxes and labels end up on top.
  const parts = [...dets].sort((a, b) => a.score - b.score).map((d) => {
    const c = colorFor(d.labelIndex);
    const x = d.box.xmin * scale;
    const y = d.box.ymin * scale;
    const w = Math.max(1, (d.box.xmax - d.box.xmin) * scale);
    const h = Math.max(1, (d.box.ymax - d.box.ymin) * scale);
    const text = labelText(d);
    const tw = Math.round(text.length * font * 0.6) + 6;
    const th = font + 4;
    const ty = y - th >= 0 ? y - th : y; // above the box, else inside it
    const tx = Math.min(x, Math.max(0, width - tw));
    // A dark halo under the coloured stroke keeps boxes visible on light and dark images alike.
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#000" stroke-opacity="0.6" stroke-width="${stroke + 2}"/>` +
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${c}" stroke-width="${stroke}"/>` +
      `<rect x="${tx}" y="${ty}" width="${tw}" height="${th}" fill="${c}"/>` +
      `<text x="${tx + 3}" y="${ty + font}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${font}" fill="${textColorOn(c)}">${escapeXml(text)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** PNG bytes of the image with the detections drawn; small images are upscaled so labels stay legible. */
export async function renderVisualization(image: ImageInput, dets: Detection[], minSide = 384): Promise<Buffer> {
  const { img, width: w0, height: h0 } = await openImage(image);
  const scale = Math.max(1, minSide / Math.min(w0, h0));
  const w = Math.round(w0 * scale);
  const h = Math.round(h0 * scale);
  const base = await img.removeAlpha().toColourspace('srgb').resize(w, h, { fit: 'fill', kernel: scale > 1 ? 'nearest' : 'lanczos3' }).png().toBuffer();
  return sharp(base).composite([{ input: Buffer.from(detectionsSvg(w, h, dets, scale)) }]).png().toBuffer();
}

/** Writes `out` (PNG) atomically with the detections drawn. */
export async function saveVisualization(image: ImageInput, dets: Detection[], out: string, minSide = 384): Promise<void> {
  atomicWriteFileSync(out, await renderVisualization(image, dets, minSide));
}
