// Reading an ONNX export directory in Node: manifest.json (schema and checks in manifestSchema.ts, shared with the
// browser) and the two graphs, each checked against its size and SHA-256 so that a swapped or truncated graph is
// caught before onnxruntime reads it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelConfig } from '../config/model.ts';
import { UserError } from '../errors.ts';
import type { InferenceSettings } from '../infer/settings.ts';
import { checkGraphSha, checkGraphSize, EXPORT_FILES, parseOnnxManifest, unreadableGraph, type ManifestFileEntry, type OnnxManifest } from './manifestSchema.ts';

export { EXPORT_FILES, MANIFEST_FORMAT, MANIFEST_VERSION, ONNX_OPSET, type OnnxManifest } from './manifestSchema.ts';

/** Size and SHA-256 of a file. */
export function fileEntryOf(file: string): { file: string; bytes: number; sha256: string } {
  const data = fs.readFileSync(file);
  return { file: path.basename(file), bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
}

/** A loaded export: manifest, graph bytes (checked against the manifest) and inference settings. */
export interface OnnxExport {
  dir: string;
  manifest: OnnxManifest;
  cfg: ModelConfig;
  settings: InferenceSettings;
  image: Uint8Array;
  text: Uint8Array;
}

/** Reads an export directory; every problem is one UserError naming the file. */
export function readOnnxExport(dir: string): OnnxExport {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: ONNX export directory not found`);
  const mFile = path.join(dir, EXPORT_FILES.manifest);
  let raw: unknown;
  try { raw = JSON.parse(fs.readFileSync(mFile, 'utf8')); } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `missing (an ONNX export holds ${Object.values(EXPORT_FILES).join(', ')}; run detclip export-onnx)` : `cannot read (${(e as Error).message.split('\n')[0]})`;
    throw new UserError(`${mFile}: ${why}`);
  }
  const { manifest, cfg, settings } = parseOnnxManifest(raw, mFile);
  const load = (entry: ManifestFileEntry): Uint8Array => {
    const f = path.join(dir, path.basename(entry.file));
    let data: Buffer;
    try { data = fs.readFileSync(f); } catch (e) { throw unreadableGraph(f, (e as NodeJS.ErrnoException).code === 'ENOENT'); }
    checkGraphSize(f, entry, data.length);
    checkGraphSha(f, entry, crypto.createHash('sha256').update(data).digest('hex'));
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  };
  return { dir, manifest, cfg, settings, image: load(manifest.files.image), text: load(manifest.files.text) };
}
