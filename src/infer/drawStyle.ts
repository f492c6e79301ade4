// How detections are drawn, shared by the PNG writer (visualize.ts) and the browser canvas (web/): a colour per
// vocabulary entry, a label text colour that stays readable on it, and the label text.
import type { Detection } from './detectorCore.ts';

// Tableau-10: distinct hues, each readable with black or white text.
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export const colorFor = (labelIndex: number): string => PALETTE[labelIndex % PALETTE.length]!;

/** WCAG relative luminance of '#rrggbb'. */
export function luminance(hex: string): number {
  const lin = (i: number): number => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(1) + 0.7152 * lin(3) + 0.0722 * lin(5);
}

/** Black or white, whichever has the higher WCAG contrast ratio on `background`. */
export function textColorOn(background: string): '#000000' | '#ffffff' {
  const l = luminance(background);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

export const labelText = (d: Detection): string => `${d.label} ${d.score.toFixed(2)}`;

/** Stroke width and font size (pixels) for an image drawn at width x height. */
export function drawSizes(width: number, height: number): { stroke: number; font: number } {
  const side = Math.min(width, height);
  return { stroke: Math.max(2, Math.round(side / 160)), font: Math.max(12, Math.round(side / 28)) };
}
