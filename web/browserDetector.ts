// The detector in a browser: the model directory is fetched (config.json + model.safetensors, and enrich.json when
// present), images are decoded and resized by a canvas, and everything else is the shared DetectorCore.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernelGaps } from '../src/backend/wasmKernels.ts';
import { DetectorCore, checkVocabulary, type Detection, type DetectOptions } from '../src/infer/detectorCore.ts';
import type { Preprocessed } from '../src/infer/letterbox.ts';
import { modelFromBytes } from '../src/infer/modelFromBytes.ts';
import { canvasPreprocess, enrichedTexts, fetchEnrichments, fetchOk, type DrawableImage } from './browserInputs.ts';

export type { DrawableImage } from './browserInputs.ts';

export type BrowserBackend = 'wasm' | 'webgl' | 'cpu';

/** Starts TF.js on the chosen backend; wasm binaries are served next to the page. */
export async function initBrowserBackend(name: BrowserBackend, wasmBase = './'): Promise<string> {
  if (name === 'wasm') {
    setWasmPaths(new URL(wasmBase, location.href).href);
    registerWasmKernelGaps();
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend '${name}' is not available in this browser`);
  await tf.ready();
  return tf.getBackend();
}

export class BrowserDetector extends DetectorCore {
  /** Phrase -> enriched concept text, precomputed in Node (web/enrichVocab.ts): WordNet does not run in a browser. */
  enrichments: Record<string, string> = {};

  /** Loads `${base}config.json`, `${base}model.safetensors` and, if present, `${base}enrich.json`. */
  static async load(base: string): Promise<BrowserDetector> {
    const config = await (await fetchOk(new URL('config.json', base).href)).json();
    const weights = await (await fetchOk(new URL('model.safetensors', base).href)).arrayBuffer();
    const { model, settings } = modelFromBytes(config, weights, base);
    const det = new BrowserDetector(model, settings);
    det.enrichments = await fetchEnrichments(base);
    return det;
  }

  /**
   * Encodes and caches the phrases. With a model trained on enriched concepts, phrases found in enrich.json use
   * their "name, definition" text; the others are returned (they run as plain phrases).
   */
  setVocabulary(phrases: string[]): { plain: string[] } {
    checkVocabulary(phrases);
    const { texts, plain } = enrichedTexts(phrases, this.settings.enrich, this.enrichments);
    this.setConcepts(phrases, texts);
    return { plain };
  }

  /** Resizes with a canvas as training resized (ResizeSpec), normalises and pads. */
  preprocess(image: DrawableImage): Preprocessed {
    return canvasPreprocess(image, this.settings);
  }

  detect(image: DrawableImage, opts: DetectOptions = {}): Detection[] {
    return this.detectPreprocessed([this.preprocess(image)], opts)[0]!;
  }
}
