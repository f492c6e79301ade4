// The onnx inference engine in Node: image.onnx and text.onnx on onnxruntime-node (CPU), around the platform-free
// OnnxDetectorCore (onnxCore.ts: scoring, post-processing, batching, the vocabulary cache, shared with the browser);
// this file adds the export directory, WordNet enrichment and sharp decoding, as detector.ts does for tfjs.
//   const det = await createDetector({ engine: 'onnx', weights: 'runs/demo/onnx' });
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../backend/index.ts';
import type { CategoryLike } from '../data/wordnetEnrich.ts';
import type { Detection, DetectOptions } from '../infer/detectorCore.ts';
import type { CreateDetectorOptions, ImageDetections } from '../infer/detector.ts';
import { preprocess, type ImageInput, type Preprocessed } from '../infer/preprocess.ts';
import type { InferenceSettings } from '../infer/settings.ts';
import { sameVocabulary, vocabularyTexts, type VocabularyEntry } from '../infer/vocabularyTexts.ts';
import { EXPORT_FILES, readOnnxExport, type OnnxExport } from './manifest.ts';
import { OnnxDetectorCore } from './onnxCore.ts';
import { openSession } from './ortSession.ts';

export class OnnxDetector extends OnnxDetectorCore {
  constructor(readonly exported: OnnxExport, imageSess: ort.InferenceSession, textSess: ort.InferenceSession, settings: InferenceSettings) {
    super(exported.manifest, { session: imageSess, Tensor: ort.Tensor }, { session: textSess, Tensor: ort.Tensor }, settings);
  }

  /**
   * Sets the vocabulary (words/phrases or categories, enriched as at training) and starts encoding it with text.onnx;
   * the next detect waits for it. Entries are checked here (a bad entry throws at once).
   */
  setVocabulary(entries: VocabularyEntry[]): void {
    const { names, texts } = vocabularyTexts(entries, this.settings.enrich);
    this.setConcepts(names, texts);
  }

  async detect(image: ImageInput, opts?: DetectOptions): Promise<Detection[]>;
  async detect(image: ImageInput, vocabulary: (string | CategoryLike)[], opts?: DetectOptions): Promise<Detection[]>;
  async detect(image: ImageInput, a?: DetectOptions | (string | CategoryLike)[], b?: DetectOptions): Promise<Detection[]> {
    let opts = a as DetectOptions | undefined;
    if (Array.isArray(a)) {
      if (!sameVocabulary(a, this.vocab)) this.setVocabulary(a);
      opts = b;
    }
    return (await this.detectBatch([image], opts ?? {}))[0]!;
  }

  async detectBatch(images: ImageInput[], opts: DetectOptions = {}): Promise<Detection[][]> {
    return (await this.detectBatchDetailed(images, opts)).map((r) => r.detections);
  }

  async detectBatchDetailed(images: ImageInput[], opts: DetectOptions = {}): Promise<ImageDetections[]> {
    this.requireVocabulary(); // before decoding anything
    const s = this.settings;
    const pre: Preprocessed[] = [];
    for (const img of images) pre.push(await preprocess(img, s.resize, s.padDivisor, s.normalization));
    return (await this.detectPreprocessed(pre, opts)).map((detections, i) => ({ width: pre[i]!.srcW, height: pre[i]!.srcH, detections }));
  }
}

/** Reads and checks an export directory and opens both sessions (threads: onnxruntime intra-op, default all cores). */
export async function createOnnxDetector(opts: CreateDetectorOptions): Promise<OnnxDetector> {
  await initBackend(opts.backend); // tfjs runs the scoring (the same similarityLogits as the tfjs engine)
  const exp = readOnnxExport(opts.weights);
  const env = process.env.DETCLIP_THREADS;
  const threads = opts.threads ?? (env ? Number(env) : undefined);
  const imageSess = await openSession(exp.image, path.join(opts.weights, EXPORT_FILES.image), threads);
  let textSess: ort.InferenceSession;
  try { textSess = await openSession(exp.text, path.join(opts.weights, EXPORT_FILES.text), threads); } catch (e) {
    await imageSess.release();
    throw e;
  }
  const settings = { ...exp.settings };
  if (opts.enrich !== undefined) settings.enrich = opts.enrich;
  return new OnnxDetector(exp, imageSess, textSess, settings);
}
