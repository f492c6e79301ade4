// Exports a model directory (config.json + model.safetensors) to an ONNX directory: image.onnx, text.onnx and
// manifest.json. Everything is written into a temp directory beside the output, validated there with
// onnxruntime-node against the tfjs model on a small input, and renamed into place only when it all passed.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.ts';
import { loadModelDir, MODEL_FILES, type DetClip } from '../model/detclip.ts';
import { l2Normalize } from '../model/head/atssHead.ts';
import { CLIP_EOT, CLIP_SOT } from '../model/text/config.ts';
import { tokenize } from '../model/text/tokenizer.ts';
import { DEFAULT_NORMALIZATION, inferenceSettings } from '../infer/settings.ts';
import { UserError } from '../errors.ts';
import { buildImageGraph, IMAGE_INPUT, IMAGE_OUTPUTS, levelStrides } from './exportImage.ts';
import { buildTextGraph, TEXT_INPUT, TEXT_OUTPUT } from './exportText.ts';
import { IR_VERSION } from './onnxGraph.ts';
import { EXPORT_FILES, fileEntryOf, MANIFEST_FORMAT, MANIFEST_VERSION, ONNX_OPSET, readOnnxExport, type OnnxManifest } from './manifest.ts';
import { openSession, ORT_VERSION, runImageGraph, runTextGraph } from './ortSession.ts';

export interface ExportOnnxOptions {
  backend?: string;   // tfjs engine for loading and the reference run (default as createDetector)
  threads?: number;   // onnxruntime intra-op threads for the validation run
  /** Runs on the temp directory after the graphs are written, before validation (tests corrupt files here). */
  beforeValidate?: (tmpDir: string) => void;
}

// Validation tolerances, |onnx - tfjs| <= atol + rtol·|tfjs|: float32 reassociation only (measured ~1e-5).
const TOL = { atol: 1e-3, rtol: 1e-4 };
const CHECK_H = 64;
const CHECK_W = 96; // not square: H and W are checked as separate dynamic dims
const CHECK_TEXTS = ['a red umbrella', 'ankle boot, a shoe reaching the ankle'];

/** max |a - b|, failing (UserError naming `where`) beyond the tolerance or on a length mismatch. */
function compare(a: Float32Array, b: Float32Array, what: string, where: string): number {
  if (a.length !== b.length) throw new UserError(`${where}: ${what} has ${a.length} values, the tfjs model gives ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= TOL.atol + TOL.rtol * Math.abs(b[i]!))) throw new UserError(`${where}: ${what}[${i}] = ${a[i]} but the tfjs model gives ${b[i]} (validation failed)`);
    worst = Math.max(worst, d);
  }
  return worst;
}

/** Deterministic pseudo-random pixels in [-2, 2] (normalised range). */
function checkPixels(n: number): Float32Array {
  const out = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; out[i] = (s / 2 ** 32) * 4 - 2; }
  return out;
}

/** Runs both written graphs with onnxruntime and the tfjs model on the same inputs; returns the max diffs. */
async function validate(model: DetClip, dir: string, threads?: number): Promise<Record<string, number>> {
  const imageFile = path.join(dir, EXPORT_FILES.image);
  const textFile = path.join(dir, EXPORT_FILES.text);
  const readOrFail = (f: string): Uint8Array => {
    try { return fs.readFileSync(f); } catch { throw new UserError(`${f}: missing after writing (validation failed)`); }
  };
  const imgSess = await openSession(readOrFail(imageFile), imageFile, threads);
  const txtSess = await openSession(readOrFail(textFile), textFile, threads);
  try {
    const px = checkPixels(CHECK_H * CHECK_W * 3);
    let got;
    try { got = await runImageGraph(imgSess, px, 1, CHECK_H, CHECK_W); } catch (e) {
      throw new UserError(`${imageFile}: onnxruntime failed on a ${CHECK_H}x${CHECK_W} image (${(e as Error).message.split('\n')[0]})`);
    }
    const ref = tf.tidy(() => {
      const enc = model.image.encodeImage(tf.tensor4d(px, [1, CHECK_H, CHECK_W, 3]), false);
      return [enc.boxes, enc.centerness, enc.regionEmbeddings];
    });
    const [boxes, ctr, emb] = ref.map((t) => t.dataSync() as Float32Array); // read outside tidy (it walks arrays)
    tf.dispose(ref);
    const L = model.cfg.text.contextLength;
    const ids = tokenize(CHECK_TEXTS, L);
    let text: Float32Array;
    try { text = await runTextGraph(txtSess, ids, CHECK_TEXTS.length, L); } catch (e) {
      throw new UserError(`${textFile}: onnxruntime failed on ${CHECK_TEXTS.length} concepts (${(e as Error).message.split('\n')[0]})`);
    }
    const textRef = tf.tidy(() => l2Normalize(model.text.encodeText(CHECK_TEXTS, { cache: false })));
    const textWant = textRef.dataSync() as Float32Array;
    textRef.dispose();
    return {
      boxes: compare(got.boxes, boxes!, IMAGE_OUTPUTS.boxes, imageFile),
      centerness: compare(got.centerness, ctr!, IMAGE_OUTPUTS.centerness, imageFile),
      region_embeddings: compare(got.embeddings, emb!, IMAGE_OUTPUTS.embeddings, imageFile),
      text_embeddings: compare(text, textWant, TEXT_OUTPUT, textFile),
    };
  } finally {
    await imgSess.release();
    await txtSess.release();
  }
}

function manifestOf(model: DetClip, weightsDir: string, inference: Record<string, unknown>, validation: Record<string, number>, dir: string): OnnxManifest {
  const cfg = model.cfg;
  const [scale, bias] = [model.image.head.logitScale, model.image.head.logitBias].map((v) => (v.dataSync() as Float32Array)[0]!);
  const f32 = 'float32' as const;
  return {
    format: MANIFEST_FORMAT, version: MANIFEST_VERSION, opset: ONNX_OPSET, irVersion: IR_VERSION, onnxruntime: ORT_VERSION,
    exportedFrom: path.resolve(weightsDir), model: cfg, inference,
    image: { layout: 'NCHW', channels: 3, strides: levelStrides(cfg), dynamic: ['B', 'H', 'W'] },
    tokenizer: { kind: 'clip-bpe', clean: 'lower', contextLength: cfg.text.contextLength, sot: CLIP_SOT, eot: CLIP_EOT, pad: 0 },
    embedDim: cfg.head.embedDim,
    scoring: { logitScale: scale!, logitScaleMax: 100, logitBias: bias!, formula: 'logits = min(exp(logitScale), logitScaleMax) * cos(region, concept) + logitBias' },
    validation,
    graphs: {
      image: {
        inputs: [{ name: IMAGE_INPUT, dtype: f32, dims: ['B', 3, 'H', 'W'] }],
        outputs: [{ name: IMAGE_OUTPUTS.boxes, dtype: f32, dims: ['B', 'K', 4] }, { name: IMAGE_OUTPUTS.centerness, dtype: f32, dims: ['B', 'K'] },
          { name: IMAGE_OUTPUTS.embeddings, dtype: f32, dims: ['B', 'K', cfg.head.embedDim] }],
      },
      text: { inputs: [{ name: TEXT_INPUT, dtype: 'int64', dims: ['C', cfg.text.contextLength] }], outputs: [{ name: TEXT_OUTPUT, dtype: f32, dims: ['C', cfg.text.outputDim] }] },
    },
    files: { image: fileEntryOf(path.join(dir, EXPORT_FILES.image)), text: fileEntryOf(path.join(dir, EXPORT_FILES.text)) },
  };
}

/** outDir must be absent, empty, or an earlier export (replaced). */
function checkOutDir(outDir: string): void {
  if (!fs.existsSync(outDir)) return;
  if (!fs.statSync(outDir).isDirectory()) throw new UserError(`${outDir}: exists and is not a directory`);
  const entries = fs.readdirSync(outDir);
  if (entries.length && !entries.includes(EXPORT_FILES.manifest)) throw new UserError(`${outDir}: exists, is not empty and holds no ${EXPORT_FILES.manifest} (refusing to replace it)`);
}

/** Moves the finished temp dir to outDir (replacing an earlier export). */
function publish(tmp: string, outDir: string): void {
  if (!fs.existsSync(outDir)) { fs.renameSync(tmp, outDir); return; }
  const old = `${outDir}.old-${process.pid}-${Date.now()}`;
  fs.renameSync(outDir, old);
  fs.renameSync(tmp, outDir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** Exports weightsDir to outDir; returns the manifest written. Any failure leaves outDir as it was. */
export async function exportOnnx(weightsDir: string, outDir: string, opts: ExportOnnxOptions = {}): Promise<OnnxManifest> {
  checkOutDir(outDir);
  await initBackend(opts.backend);
  const { model, extra } = loadModelDir(weightsDir);
  const tmp = `${outDir.replace(/\/+$/, '')}.tmp-${process.pid}-${Date.now()}`;
  try {
    const s = inferenceSettings(model, extra, path.join(weightsDir, MODEL_FILES.config));
    const inference = { resize: s.resize, padDivisor: s.padDivisor, enrich: s.enrich, normalization: s.normalization ?? DEFAULT_NORMALIZATION };
    const image = buildImageGraph(model).toBytes(ONNX_OPSET, 'detclip image graph: image [B,3,H,W] -> boxes, centerness, region_embeddings');
    const text = buildTextGraph(model).toBytes(ONNX_OPSET, 'detclip text graph: ids [C,L] -> embeddings');
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, EXPORT_FILES.image), image);
    fs.writeFileSync(path.join(tmp, EXPORT_FILES.text), text);
    opts.beforeValidate?.(tmp);
    const validation = await validate(model, tmp, opts.threads);
    const manifest = manifestOf(model, weightsDir, inference, validation, tmp);
    fs.writeFileSync(path.join(tmp, EXPORT_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    readOnnxExport(tmp); // the reader accepts what was written
    publish(tmp, outDir);
    return manifest;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const msg = (e as Error).message.split('\n')[0]!.replaceAll(tmp, outDir); // name the files as they would have been
    throw new UserError(e instanceof UserError ? msg : `export-onnx ${weightsDir}: ${msg}`);
  } finally {
    model.dispose();
  }
}
