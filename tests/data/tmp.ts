// Temporary folders and tiny images for the data tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

const made: string[] = [];
process.on('exit', () => { for (const d of made) fs.rmSync(d, { recursive: true, force: true }); });

/** A fresh temporary folder, removed when the test process exits. */
export function tmpDir(prefix = 'detclip-data-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A PNG of w x h whose pixel (x, y) is [x, y, 100 + c] (c = `tag`), for geometry checks. */
export async function writeGradientPng(file: string, w: number, h: number, tag = 0): Promise<void> {
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) rgb.set([x % 256, y % 256, 100 + tag], (y * w + x) * 3);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

export function writeJson(file: string, v: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(v));
}

export function writeLines(file: string, lines: string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n') + '\n');
}
