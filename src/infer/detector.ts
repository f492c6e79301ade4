// The library entry point for open-vocabulary detection with a trained model (Node):
//   const det = await createDetector({ weights: 'runs/demo/model' });
//   const found = await det.detect('street.jpg', ['red umbrella', 'dog']);   // or:
//   det.setVocabulary(['red umbrella', 'dog']);
//   const found = await det.detect('street.jpg', { scoreThreshold: 0.3 });
//   det.dispose();
import { initBackend } from '../backend/index.ts';
import path from 'node:path';
import { loadModelDir, MODEL_FILES } from '../model/detclip.ts';
import { enrichCategory, type CategoryLike } from '../data/wordnetEnrich.ts';
import { checkVocabulary, DetectorCore, type Detection, type DetectOptions } from './detectorCore.ts';
import { preprocess, type ImageInput, type Preprocessed } from './preprocess.ts';
import { inferenceSettings, type InferenceSettings } from './settings.ts';

export type { Detection, DetectOptions } from './detectorCore.ts';
export type { ImageInput, RawImage } from './preprocess.ts';
export { inferenceSettings, type InferenceSettings } from './settings.ts';
export type { CategoryLike } from '../data/wordnetEnrich.ts';

export interface CreateDetectorOptions {
  weights: string;    // model directory: config.json + model.safetensors
  backend?: string;   // 'torch' | 'wasm' | ... (default: DETCLIP_BACKEND, else torch when the native module loads, else wasm)
  threads?: number;   // native engine intra-op threads (default: DETCLIP_THREADS, else every core)
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
    const cats = entries.map((e) => (typeof e === 'string' ? { name: e } : e));
    checkVocabulary(cats.map((c) => c.name)); // before any WordNet work
    this.setConcepts(cats.map((c) => c.name), cats.map((c) => enrichCategory(c, { enabled: this.settings.enrich })));
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
    const names = entries.map((e) => (typeof e === 'string' ? e : e.name));
    const same = names.length === this.vocabulary.length && names.every((n, i) => n === this.vocabulary[i]);
    if (!same) this.setVocabulary(entries);
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

export async function createDetector(opts: CreateDetectorOptions): Promise<Detector> {
  await initBackend(opts.backend, { threads: opts.threads });
  const { model, extra } = loadModelDir(opts.weights);
  let settings: InferenceSettings;
  try { settings = inferenceSettings(model, extra, path.join(opts.weights, MODEL_FILES.config)); } catch (e) { model.dispose(); throw e; }
  if (opts.enrich !== undefined) settings.enrich = opts.enrich;
  return new Detector(model, settings);
}
