// What both browser engines (tfjs: browserDetector.ts, onnx: browserOnnxDetector.ts) do the same way: fetch files
// of the served model directory, resize and normalise an image with a canvas as training resized it, and map
// phrases to their precomputed "name, definition" texts (enrich.json: WordNet does not run in a browser).
import { normalizeAndPad, resizeTarget, type Preprocessed } from '../src/infer/letterbox.ts';
import type { InferenceSettings } from '../src/infer/settings.ts';

export async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** `${base}enrich.json` when the directory has one, else an empty table. */
export async function fetchEnrichments(base: string): Promise<Record<string, string>> {
  const e = await fetch(new URL('enrich.json', base).href).catch(() => null);
  return e?.ok ? await e.json() as Record<string, string> : {};
}

/** Image sources a canvas can draw, with their natural size. */
export type DrawableImage = ImageBitmap | HTMLImageElement | HTMLCanvasElement;
const sizeOf = (im: DrawableImage): { width: number; height: number } =>
  im instanceof HTMLImageElement ? { width: im.naturalWidth, height: im.naturalHeight } : { width: im.width, height: im.height };

/** Resizes with a canvas as training resized (ResizeSpec), normalises and pads -> pixels [H, W, 3]. */
export function canvasPreprocess(image: DrawableImage, settings: InferenceSettings): Preprocessed {
  const src = sizeOf(image);
  const t = resizeTarget(src.width, src.height, settings.resize);
  const canvas = document.createElement('canvas');
  canvas.width = t.width;
  canvas.height = t.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'medium';
  ctx.drawImage(image, 0, 0, t.width, t.height);
  const rgba = ctx.getImageData(0, 0, t.width, t.height).data;
  return normalizeAndPad(rgba, t.width, t.height, 4, src, settings.padDivisor, settings.normalization);
}

/**
 * The concept texts of the phrases: with a model trained on enriched concepts, phrases found in the table use
 * their "name, definition" text; the others are returned in `plain` (they run as plain phrases).
 */
export function enrichedTexts(phrases: string[], enrich: boolean, table: Record<string, string>): { texts: string[]; plain: string[] } {
  const plain: string[] = [];
  const texts = phrases.map((p) => {
    if (!enrich) return p;
    const t = table[p.trim()] ?? table[p.trim().toLowerCase()];
    if (t === undefined) plain.push(p);
    return t ?? p;
  });
  return { texts, plain };
}
