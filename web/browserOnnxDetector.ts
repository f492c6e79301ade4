// The onnx engine in a browser: the export directory (manifest.json, image.onnx, text.onnx from `detclip
// export-onnx`) runs on onnxruntime-web (wasm execution provider), around the same OnnxDetectorCore as the Node
// onnx engine (src/onnx/onnxCore.ts: scoring, post-processing, NMS, vocabulary cache). The manifest is checked as
// in Node: format and version, then each graph's size and SHA-256 (crypto.subtle) before onnxruntime reads it.
import * as ort from 'onnxruntime-web/wasm';
import { UserError } from '../src/errors.ts';
import { checkVocabulary, type Detection, type DetectOptions } from '../src/infer/detectorCore.ts';
import { EXPORT_FILES, checkGraphSha, checkGraphSize, parseOnnxManifest, type ManifestFileEntry, type ParsedManifest } from '../src/onnx/manifestSchema.ts';
import { OnnxDetectorCore } from '../src/onnx/onnxCore.ts';
import { canvasPreprocess, enrichedTexts, fetchEnrichments, fetchOk, type DrawableImage } from './browserInputs.ts';

/** The onnxruntime-web version in the bundle. */
export const ORT_WEB_VERSION: string = ort.env.versions?.web ?? 'unknown';

/**
 * Points onnxruntime-web at its wasm files (served next to the page) and sets its thread count: `threads` when
 * given, else every core when the page is cross-origin isolated (SharedArrayBuffer), else 1. Returns the count.
 */
export function configureOrtWeb(wasmBase = './', threads?: number): number {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UserError(`threads must be a positive integer, got ${threads}`);
  ort.env.wasm.wasmPaths = new URL(wasmBase, location.href).href;
  const isolated = globalThis.crossOriginIsolated === true;
  const n = !isolated ? 1 : threads ?? Math.max(1, navigator.hardwareConcurrency || 1);
  ort.env.wasm.numThreads = n;
  ort.env.wasm.proxy = false;
  return n;
}

/** True when `base` serves an ONNX export (manifest.json, image.onnx and text.onnx all answer). */
export async function hasOnnxExport(base: string): Promise<boolean> {
  const ok = async (f: string, method: 'GET' | 'HEAD'): Promise<boolean> =>
    (await fetch(new URL(f, base).href, { method }).catch(() => null))?.ok === true;
  const all = await Promise.all([ok(EXPORT_FILES.manifest, 'GET'), ok(EXPORT_FILES.image, 'HEAD'), ok(EXPORT_FILES.text, 'HEAD')]);
  return all.every(Boolean);
}

const hex = (buf: ArrayBuffer): string => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** A graph file's bytes, checked against its manifest entry (size; SHA-256 where crypto.subtle exists). */
async function fetchGraph(base: string, entry: ManifestFileEntry): Promise<{ bytes: Uint8Array; hashed: boolean }> {
  const url = new URL(entry.file, base).href;
  const bytes = new Uint8Array(await (await fetchOk(url)).arrayBuffer());
  checkGraphSize(url, entry, bytes.length);
  const subtle = globalThis.crypto?.subtle; // secure contexts only (https, localhost)
  if (subtle) checkGraphSha(url, entry, hex(await subtle.digest('SHA-256', bytes)));
  return { bytes, hashed: subtle !== undefined };
}

async function createSession(bytes: Uint8Array, where: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  } catch (e) {
    throw new UserError(`${where}: onnxruntime-web ${ORT_WEB_VERSION} cannot load this graph (${(e as Error).message.split('\n')[0]})`);
  }
}

export class BrowserOnnxDetector extends OnnxDetectorCore {
  /** Phrase -> enriched concept text, precomputed in Node (web/enrichVocab.ts), as BrowserDetector. */
  enrichments: Record<string, string> = {};
  /** Graph sizes (bytes) and whether their SHA-256 was checked, for the page's status line. */
  loaded = { imageBytes: 0, textBytes: 0, hashed: false };

  /** Loads `${base}manifest.json`, both graphs and, if present, `${base}enrich.json` (configureOrtWeb first). */
  static async load(base: string): Promise<BrowserOnnxDetector> {
    const mUrl = new URL(EXPORT_FILES.manifest, base).href;
    let raw: unknown;
    try { raw = await (await fetchOk(mUrl)).json(); } catch (e) {
      throw new UserError(`${mUrl}: cannot read (${(e as Error).message.split('\n')[0]})`);
    }
    const parsed: ParsedManifest = parseOnnxManifest(raw, mUrl);
    const { files } = parsed.manifest;
    const [image, text] = await Promise.all([fetchGraph(base, files.image), fetchGraph(base, files.text)]);
    const imageSess = await createSession(image.bytes, new URL(files.image.file, base).href);
    let textSess: ort.InferenceSession;
    try { textSess = await createSession(text.bytes, new URL(files.text.file, base).href); } catch (e) {
      await imageSess.release();
      throw e;
    }
    const det = new BrowserOnnxDetector(parsed.manifest, { session: imageSess, Tensor: ort.Tensor }, { session: textSess, Tensor: ort.Tensor }, parsed.settings);
    det.loaded = { imageBytes: image.bytes.length, textBytes: text.bytes.length, hashed: image.hashed && text.hashed };
    det.enrichments = await fetchEnrichments(base);
    return det;
  }

  /** Starts encoding the phrases (enrich.json texts where the model was trained enriched); `plain` as BrowserDetector. */
  setVocabulary(phrases: string[]): { plain: string[] } {
    checkVocabulary(phrases);
    const { texts, plain } = enrichedTexts(phrases, this.settings.enrich, this.enrichments);
    this.setConcepts(phrases, texts);
    return { plain };
  }

  async detect(image: DrawableImage, opts: DetectOptions = {}): Promise<Detection[]> {
    this.requireVocabulary();
    return (await this.detectPreprocessed([canvasPreprocess(image, this.settings)], opts))[0]!;
  }
}
