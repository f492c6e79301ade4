// manifest.json of an ONNX export directory: what the two graphs expect and produce, how to feed them (resize,
// normalisation, tokenizer), the scoring constants, and each file's size and SHA-256 so that a swapped or truncated
// graph is caught before onnxruntime reads it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ModelConfigSchema, type ModelConfig } from '../config/model.ts';
import { parseStrict } from '../config/strict.ts';
import { UserError } from '../errors.ts';
import { inferenceSettings, type InferenceSettings } from '../infer/settings.ts';

export const MANIFEST_FORMAT = 'detclip-onnx';
export const MANIFEST_VERSION = 1;
export const ONNX_OPSET = 19; // DeformConv needs 19
export const EXPORT_FILES = { manifest: 'manifest.json', image: 'image.onnx', text: 'text.onnx' } as const;

const fileEntry = z.strictObject({ file: z.string().min(1), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
const graphIo = z.strictObject({ name: z.string(), dtype: z.enum(['float32', 'int64']), dims: z.array(z.union([z.number().int(), z.string()])) });
const graphEntry = z.strictObject({ inputs: z.array(graphIo), outputs: z.array(graphIo) });

const ManifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(MANIFEST_VERSION),
  opset: z.number().int(),
  irVersion: z.number().int(),
  onnxruntime: z.string(),        // the onnxruntime-node version the export was validated with
  exportedFrom: z.string(),       // the weights directory (informative)
  model: ModelConfigSchema,
  inference: z.record(z.string(), z.unknown()), // config.json's `inference` section, resolved (settings.ts checks it)
  image: z.strictObject({ layout: z.literal('NCHW'), channels: z.literal(3), strides: z.array(z.number().int().positive()), dynamic: z.array(z.string()) }),
  tokenizer: z.strictObject({ kind: z.literal('clip-bpe'), clean: z.literal('lower'), contextLength: z.number().int().positive(), sot: z.number().int(), eot: z.number().int(), pad: z.number().int() }),
  embedDim: z.number().int().positive(),
  scoring: z.strictObject({ logitScale: z.number(), logitScaleMax: z.number(), logitBias: z.number(), formula: z.string() }),
  validation: z.record(z.string(), z.number()), // max |onnx - tfjs| at export, per output
  graphs: z.strictObject({ image: graphEntry, text: graphEntry }),
  files: z.strictObject({ image: fileEntry, text: fileEntry }),
});

export type OnnxManifest = z.infer<typeof ManifestSchema>;

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
  const r = raw as { format?: unknown; version?: unknown } | null;
  if (typeof r !== 'object' || r === null || r.format !== MANIFEST_FORMAT) throw new UserError(`${mFile}: not a detclip ONNX manifest (format must be '${MANIFEST_FORMAT}')`);
  if (r.version !== MANIFEST_VERSION) throw new UserError(`${mFile}: manifest version ${JSON.stringify(r.version)} is not supported (this detclip reads version ${MANIFEST_VERSION}); re-export with detclip export-onnx`);
  const manifest = parseStrict(ManifestSchema, raw, mFile);
  const settings = inferenceSettings({ cfg: manifest.model }, { inference: manifest.inference }, mFile);
  const load = (entry: OnnxManifest['files']['image']): Uint8Array => {
    const f = path.join(dir, path.basename(entry.file));
    let data: Buffer;
    try { data = fs.readFileSync(f); } catch (e) {
      throw new UserError(`${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'cannot read'} (listed in ${EXPORT_FILES.manifest})`);
    }
    if (data.length !== entry.bytes) throw new UserError(`${f}: ${data.length} bytes but ${EXPORT_FILES.manifest} says ${entry.bytes} (truncated or replaced; re-export)`);
    const sha = crypto.createHash('sha256').update(data).digest('hex');
    if (sha !== entry.sha256) throw new UserError(`${f}: SHA-256 does not match ${EXPORT_FILES.manifest} (the file was changed or belongs to another export)`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  };
  return { dir, manifest, cfg: manifest.model, settings, image: load(manifest.files.image), text: load(manifest.files.text) };
}
