// manifest.json of an ONNX export directory, the platform-free part: the schema (what the two graphs expect and
// produce, how to feed them, the scoring constants, each file's size and SHA-256) and the checks on a parsed
// manifest and on graph bytes. Browser-safe: Node (manifest.ts) and the page read files and hash them their way.
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
export type ManifestFileEntry = OnnxManifest['files']['image'];

/** A checked manifest and the inference settings it carries. */
export interface ParsedManifest { manifest: OnnxManifest; cfg: ModelConfig; settings: InferenceSettings }

/** Checks parsed manifest.json contents (`mFile` names it in every error): format, version, then the schema. */
export function parseOnnxManifest(raw: unknown, mFile: string): ParsedManifest {
  const r = raw as { format?: unknown; version?: unknown } | null;
  if (typeof r !== 'object' || r === null || r.format !== MANIFEST_FORMAT) throw new UserError(`${mFile}: not a detclip ONNX manifest (format must be '${MANIFEST_FORMAT}')`);
  if (r.version !== MANIFEST_VERSION) throw new UserError(`${mFile}: manifest version ${JSON.stringify(r.version)} is not supported (this detclip reads version ${MANIFEST_VERSION}); re-export with detclip export-onnx`);
  const manifest = parseStrict(ManifestSchema, raw, mFile);
  const settings = inferenceSettings({ cfg: manifest.model }, { inference: manifest.inference }, mFile);
  return { manifest, cfg: manifest.model, settings };
}

/** A graph file's bytes against its manifest entry: size first (cheap), then the SHA-256 (hex) the caller computed. */
export function checkGraphSize(where: string, entry: ManifestFileEntry, bytes: number): void {
  if (bytes !== entry.bytes) throw new UserError(`${where}: ${bytes} bytes but ${EXPORT_FILES.manifest} says ${entry.bytes} (truncated or replaced; re-export)`);
}

export function checkGraphSha(where: string, entry: ManifestFileEntry, sha256: string): void {
  if (sha256 !== entry.sha256) throw new UserError(`${where}: SHA-256 does not match ${EXPORT_FILES.manifest} (the file was changed or belongs to another export)`);
}

/** The message for a graph file that cannot be read. */
export const unreadableGraph = (where: string, missing: boolean): UserError =>
  new UserError(`${where}: ${missing ? 'missing' : 'cannot read'} (listed in ${EXPORT_FILES.manifest})`);
