// The library entry point for open-vocabulary detection with a trained model (Node):
//   const det = await createDetector({ weights: 'runs/demo/model' });
//   const found = await det.detect('street.jpg', ['red umbrella', 'dog']);   // or:
//   det.setVocabulary(['red umbrella', 'dog']);
//   const found = await det.detect('street.jpg', { scoreThreshold: 0.3 });
//   det.dispose();
import { initBackend } from '../backend/index.ts';
import path from 'node:path';
import { loadModelDir, MODEL_FILES } from '../model/detclip.ts';
import type { CategoryLike } from '../data/wordnetEnrich.ts';
import { DetectorCore, type Detection, type DetectOptions } from './detectorCore.ts';
import { sameVocabulary, vocabularyTexts } from './vocabularyTexts.ts';
import type { OnnxDetector } from '../onnx/onnxDetector.ts';
import { preprocess, type ImageInput, type Preprocessed } from './preprocess.ts';
import { inferenceSettings, type InferenceSettings } from './settings.ts';
import { UserError } from '../errors.ts';

export type { Detection, DetectOptions } from './detectorCore.ts';
export type { ImageInput, RawImage } from './preprocess.ts';
export { inferenceSettings, type InferenceSettings } from './settings.ts';
export type { CategoryLike } from '../data/wordnetEnrich.ts';

export interface CreateDetectorOptions {
  weights: string;    // model directory: config.json + model.safetensors (engine 'onnx': an export-onnx directory)
  engine?: 'tfjs' | 'onnx'; // 'tfjs' (default): the TF.js model; 'onnx': image.onnx + text.onnx on onnxruntime-node (CPU)
  backend?: string;   // 'torch' | 'wasm' | ... (default: DETCLIP_BACKEND, else torch when the native module loads, else wasm)
  threads?: number;   // intra-op threads of the native engine, or of onnxruntime with engine 'onnx' (default: DETCLIP_THREADS, else every core)
  enrich?: boolean;   // override the saved setting (concepts as "name, definition")
}

/** Detections of one image plus its original size. */
export interface ImageDetections { width: number; height: number; detections: Detection[] }

export class Detector extends DetectorCore {
  /**
   * Encodes the vocabulary once (chunked, any size) and caches it; the previous cache is disposed.
   * Entries are words/phrases or categories ({name, synset?, def?, text?}), enriched as at training.
   */
  setVocabulary(entries: (string | CategoryLike)[]): void {
    const { names, texts } = vocabularyTexts(entries, this.settings.enrich);
    this.setConcepts(names, texts);
  }

  /**
   * Detections in one image. The vocabulary is the one set last, or `vocabulary` when given (encoded once and
   * cached: the same list again costs no text-encoder pass).
   */
  async detect(image: ImageInput, opts?: DetectOptions): Promise<Detection[]>;
  async detect(image: ImageInput, vocabulary: (string | CategoryLike)[], opts?: DetectOptions): Promise<Detection[]>;
  async detect(image: ImageInput, a?: DetectOptions | (string | CategoryLike)[], b?: DetectOptions): Promise<Detection[]> {
    let opts = a as DetectOptions | undefined;
    if (Array.isArray(a)) {
      this.useVocabulary(a);
      opts = b;
    }
    return (await this.detectBatch([image], opts ?? {}))[0]!;
  }

  /** setVocabulary unless the same entries (by name) are already encoded. */
  private useVocabulary(entries: (string | CategoryLike)[]): void {
    if (!sameVocabulary(entries, this.vocabulary)) this.setVocabulary(entries);
  }

  /** Images of any sizes and forms; those of the same size after resizing share forward passes. */
  async detectBatch(images: ImageInput[], opts: DetectOptions = {}): Promise<Detection[][]> {
    return (await this.detectBatchDetailed(images, opts)).map((r) => r.detections);
  }

  /** As detectBatch, with each image's original size (for COCO results files). */
  async detectBatchDetailed(images: ImageInput[], opts: DetectOptions = {}): Promise<ImageDetections[]> {
    this.requireVocabulary(); // before decoding anything
    const s = this.settings;
    const pre: Preprocessed[] = [];
    for (const img of images) pre.push(await preprocess(img, s.resize, s.padDivisor, s.normalization));
    return this.detectPreprocessed(pre, opts).map((detections, i) => ({ width: pre[i]!.srcW, height: pre[i]!.srcH, detections }));
  }
}

export async function createDetector(opts: CreateDetectorOptions & { engine?: 'tfjs' }): Promise<Detector>;
export async function createDetector(opts: CreateDetectorOptions & { engine: 'onnx' }): Promise<OnnxDetector>;
export async function createDetector(opts: CreateDetectorOptions): Promise<Detector | OnnxDetector>;
export async function createDetector(opts: CreateDetectorOptions): Promise<Detector | OnnxDetector> {
  const engine = opts.engine ?? 'tfjs';
  if (engine === 'onnx') {
    // loaded on demand: the tfjs engine never loads onnxruntime
    const { createOnnxDetector } = await import('../onnx/onnxDetector.ts');
    return createOnnxDetector(opts);
  }
  if (engine !== 'tfjs') throw new UserError(`unknown engine '${String(engine)}': use 'tfjs' or 'onnx'`);
  await initBackend(opts.backend, { threads: opts.threads });
  const { model, extra } = loadModelDir(opts.weights);
  let settings: InferenceSettings;
  try { settings = inferenceSettings(model, extra, path.join(opts.weights, MODEL_FILES.config)); } catch (e) { model.dispose(); throw e; }
  if (opts.enrich !== undefined) settings.enrich = opts.enrich;
  return new Detector(model, settings);
}
