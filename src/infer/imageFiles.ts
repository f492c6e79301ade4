// The inputs of `detclip detect`: image files as given, and folders searched recursively for images.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.avif'];

function walk(dir: string, out: string[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) out.push(p);
  }
}

/** Files in input order, each folder's images in sorted path order; duplicates kept once. */
export function listImageInputs(inputs: string[]): { files: string[]; fromFolders: boolean } {
  if (inputs.length === 0) throw new UserError('no input images: give image files or folders');
  const files: string[] = [];
  let fromFolders = false;
  for (const input of inputs) {
    let st: fs.Stats;
    try { st = fs.statSync(input); } catch { throw new UserError(`${input}: no such image file or folder`); }
    if (st.isDirectory()) {
      fromFolders = true;
      const found: string[] = [];
      walk(input, found);
      if (found.length === 0) throw new UserError(`${input}: no images in this folder (looked for ${IMAGE_EXTENSIONS.join(' ')})`);
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  const seen = new Set<string>();
  return { files: files.filter((f) => (seen.has(path.resolve(f)) ? false : (seen.add(path.resolve(f)), true))), fromFolders };
}

/** Unique output names `<stem>.png` in one folder (a clash gets `-2`, `-3`, ...). */
export function visFileNames(files: string[]): string[] {
  const used = new Set<string>();
  return files.map((f) => {
    const stem = path.basename(f, path.extname(f));
    let name = `${stem}.png`;
    for (let k = 2; used.has(name.toLowerCase()); k++) name = `${stem}-${k}.png`;
    used.add(name.toLowerCase());
    return name;
  });
}
