// Draws one OVD-MNIST scene: a smooth random colour background with noise and 1-5 tinted glyphs
// (20-64 px, pairwise box IoU <= 0.2). A box is the tight box of the scaled glyph's pixels >= 32/255.
import type { Rng } from '../../ops/rng.ts';
import { COLORS, type OvdMnistCategory } from './ovdMnistCategories.ts';
import { GLYPH } from './glyphPool.ts';

export interface SceneObject {
  category: OvdMnistCategory;
  color: string;
  box: [number, number, number, number];   // xyxy in pixels
}

export interface Scene { rgb: Uint8Array; size: number; objects: SceneObject[] }

export interface SceneOptions {
  size: number;
  categories: readonly OvdMnistCategory[];          // what may appear
  glyphs: (c: OvdMnistCategory) => Uint8Array[];    // pool per category (28x28 each)
  minObjects?: number; maxObjects?: number;         // default 1..5
  minScale?: number; maxScale?: number;             // default 20..64 px
  maxIoU?: number;                                  // default 0.2
}

/** Box threshold on the scaled glyph (intensity >= 32/255). */
export const BOX_THRESHOLD = 32;

/** Bilinear resize of a 28x28 glyph to s x s (pixel centres aligned, like align_corners=False). */
export function scaleGlyph(g: Uint8Array, s: number): Uint8Array {
  const out = new Uint8Array(s * s);
  const r = GLYPH / s;
  for (let y = 0; y < s; y++) {
    const fy = Math.min(Math.max((y + 0.5) * r - 0.5, 0), GLYPH - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, GLYPH - 1);
    const wy = fy - y0;
    for (let x = 0; x < s; x++) {
      const fx = Math.min(Math.max((x + 0.5) * r - 0.5, 0), GLYPH - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, GLYPH - 1);
      const wx = fx - x0;
      const top = g[y0 * GLYPH + x0]! * (1 - wx) + g[y0 * GLYPH + x1]! * wx;
      const bot = g[y1 * GLYPH + x0]! * (1 - wx) + g[y1 * GLYPH + x1]! * wx;
      out[y * s + x] = Math.round(top * (1 - wy) + bot * wy);
    }
  }
  return out;
}

/** Tight box [x1, y1, x2, y2) of the pixels >= threshold in an s x s map; null when none is. */
export function tightBox(a: Uint8Array, s: number, threshold = BOX_THRESHOLD): [number, number, number, number] | null {
  let x1 = s, y1 = s, x2 = -1, y2 = -1;
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++)
      if (a[y * s + x]! >= threshold) {
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        if (y > y2) y2 = y;
      }
  return x2 < 0 ? null : [x1, y1, x2 + 1, y2 + 1];
}

export function iou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const ih = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = iw * ih;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

/** A smooth random background (bilinear over a 4x4 grid of dark colours) plus uniform noise. */
function background(size: number, rng: Rng): Uint8Array {
  const G = 4;
  const grid = new Float32Array((G + 1) * (G + 1) * 3);
  for (let i = 0; i < grid.length; i++) grid[i] = 15 + 95 * rng.next();
  const rgb = new Uint8Array(size * size * 3);
  const cell = size / G;
  const row = new Float32Array((G + 1) * 3); // the grid interpolated to the current y
  let bits = 0;
  let left = 0; // noise bytes left in `bits` (one 32-bit draw gives four)
  for (let y = 0; y < size; y++) {
    const gy = Math.min(Math.floor(y / cell), G - 1);
    const wy = y / cell - gy;
    for (let i = 0; i < row.length; i++) row[i] = grid[gy * (G + 1) * 3 + i]! * (1 - wy) + grid[(gy + 1) * (G + 1) * 3 + i]! * wy;
    for (let x = 0; x < size; x++) {
      const gx = Math.min(Math.floor(x / cell), G - 1);
      const wx = x / cell - gx;
      const o = (y * size + x) * 3;
      // Luminance noise, shared by the channels (colour noise would triple the PNG size).
      if (left === 0) { bits = rng.nextUint32(); left = 4; }
      const noise = ((bits & 255) / 255 - 0.5) * 12;
      bits >>>= 8;
      left--;
      for (let c = 0; c < 3; c++) {
        const v = row[gx * 3 + c]! * (1 - wx) + row[(gx + 1) * 3 + c]! * wx + noise;
        rgb[o + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  return rgb;
}

/** Renders one scene. Objects that cannot be placed within the IoU limit after 30 tries are left out. */
export function renderScene(o: SceneOptions, rng: Rng): Scene {
  const { size } = o;
  const rgb = background(size, rng);
  const minObj = o.minObjects ?? 1;
  const maxObj = o.maxObjects ?? 5;
  const maxScale = Math.min(o.maxScale ?? 64, size);
  const minScale = Math.min(o.minScale ?? 20, maxScale);
  const maxIoU = o.maxIoU ?? 0.2;
  const n = minObj + rng.int(maxObj - minObj + 1);
  const objects: SceneObject[] = [];
  const used = new Set<string>(); // no two objects share (category, colour): captions stay unambiguous
  for (let k = 0; k < n; k++) {
    const category = o.categories[rng.int(o.categories.length)]!;
    let color = COLORS[rng.int(COLORS.length)]!;
    for (let t = 0; t < 8 && used.has(`${category.id}/${color.name}`); t++) color = COLORS[rng.int(COLORS.length)]!;
    if (used.has(`${category.id}/${color.name}`)) continue;
    const pool = o.glyphs(category);
    const glyph = scaleGlyph(pool[rng.int(pool.length)]!, minScale + rng.int(maxScale - minScale + 1));
    const s = Math.round(Math.sqrt(glyph.length));
    const tb = tightBox(glyph, s);
    if (!tb) continue;
    let placed: [number, number, number, number] | null = null;
    let x0 = 0, y0 = 0;
    for (let t = 0; t < 30 && !placed; t++) {
      x0 = rng.int(size - s + 1);
      y0 = rng.int(size - s + 1);
      const box: [number, number, number, number] = [x0 + tb[0], y0 + tb[1], x0 + tb[2], y0 + tb[3]];
      if (objects.every((p) => iou(p.box, box) <= maxIoU)) placed = box;
    }
    if (!placed) continue;
    const tint = color.rgb;
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        const a = glyph[y * s + x]! / 255;
        if (a === 0) continue;
        const p = ((y0 + y) * size + x0 + x) * 3;
        for (let c = 0; c < 3; c++) rgb[p + c] = Math.round(rgb[p + c]! * (1 - a) + tint[c]! * a);
      }
    used.add(`${category.id}/${color.name}`);
    objects.push({ category, color: color.name, box: placed });
  }
  return { rgb, size, objects };
}
