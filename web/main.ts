// The browser page: loads a trained model served next to it (./model/ or ?model=URL), lets a person pick an image
// and type phrases, and draws the detections. Two engines, chosen by the Engine toggle (?engine=tfjs|onnx): the
// TF.js model (config.json + model.safetensors), or the ONNX export (manifest.json + image.onnx + text.onnx) on
// onnxruntime-web, the default when the model directory holds one. Built by web/build.ts (esbuild); see
// docs/ARCHITECTURE.md "Inference".
import { BrowserDetector, initBrowserBackend, type BrowserBackend, type DrawableImage } from './browserDetector.ts';
import { BrowserOnnxDetector, configureOrtWeb, hasOnnxExport, ORT_WEB_VERSION } from './browserOnnxDetector.ts';
import { drawDetections } from './drawCanvas.ts';
import * as tf from '@tensorflow/tfjs';
import { colorFor } from '../src/infer/drawStyle.ts';
import type { Detection } from '../src/infer/detectorCore.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  image: $<HTMLInputElement>('image'), phrases: $<HTMLTextAreaElement>('phrases'), threshold: $<HTMLInputElement>('threshold'),
  maxdet: $<HTMLInputElement>('maxdet'), backend: $<HTMLSelectElement>('backend'), engine: $<HTMLSelectElement>('engine'),
  detect: $<HTMLButtonElement>('detect'),
  form: $<HTMLFormElement>('controls'), status: $('status'), note: $('note'), view: $<HTMLCanvasElement>('view'), results: $<HTMLOListElement>('results'),
};

type State = 'loading' | 'ready' | 'busy' | 'done' | 'error';
function setState(state: State, message: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = message;
  ui.detect.disabled = state === 'loading' || state === 'busy' || (state === 'error' && !detector);
}

const params = new URLSearchParams(location.search);
const backendName = (params.get('backend') ?? 'wasm') as BrowserBackend;
const modelUrl = new URL(params.get('model') ?? './model/', location.href).href;
type Engine = 'tfjs' | 'onnx';
const engineParam = params.get('engine');
const threadsParam = params.get('threads');
let detector: BrowserDetector | BrowserOnnxDetector | null = null;
let engine: Engine = 'tfjs';
let threads = 1; // onnxruntime-web threads (the tfjs engine: 1, or what tfjs-backend-wasm picks itself)
let vocabKey = '';
let picked: { image: DrawableImage; width: number; height: number; name: string } | null = null;

/** Exposed for scripted use and the end-to-end test. */
interface PageHandle { detector: BrowserDetector | BrowserOnnxDetector; engine: Engine; threads: number; last: Detection[]; numTensors: () => number }
declare global { interface Window { detclip?: PageHandle } }
const numTensors = (): number => tf.memory().numTensors;

const parsePhrases = (text: string): string[] => text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== '');

function showResults(dets: Detection[]): void {
  ui.results.replaceChildren(...dets.map((d) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = colorFor(d.labelIndex);
    const b = d.box;
    li.append(sw, `${d.label} ${d.score.toFixed(3)} [${[b.xmin, b.ymin, b.xmax, b.ymax].map((v) => v.toFixed(1)).join(', ')}]`);
    li.dataset.label = d.label;
    return li;
  }));
}

async function run(): Promise<void> {
  if (!detector) return;
  if (!picked) { setState('ready', 'Pick an image.'); return; }
  const phrases = parsePhrases(ui.phrases.value);
  if (phrases.length === 0) { setState('ready', 'Type at least one phrase.'); return; }
  setState('busy', 'Detecting…');
  await new Promise((r) => setTimeout(r, 0)); // let the status paint before the synchronous work
  try {
    const t0 = performance.now();
    const key = JSON.stringify(phrases);
    if (key !== vocabKey) {
      const { plain } = detector.setVocabulary(phrases);
      vocabKey = key;
      ui.note.hidden = plain.length === 0;
      ui.note.textContent = plain.length ? `No precomputed definitions (enrich.json) for: ${plain.join(', ')}; they run as plain phrases.` : '';
    }
    const dets = await detector.detect(picked.image, {
      scoreThreshold: Number(ui.threshold.value) || 0, maxDetections: Math.max(1, Math.floor(Number(ui.maxdet.value) || 20)),
    });
    const ms = performance.now() - t0;
    drawDetections(ui.view, picked.image, picked.width, picked.height, dets);
    showResults(dets);
    window.detclip = { detector, engine, threads, last: dets, numTensors };
    setState('done', `${dets.length} detection${dets.length === 1 ? '' : 's'} in ${picked.name} (${ms.toFixed(0)} ms, ${phrases.length} phrases).`);
  } catch (e) {
    vocabKey = ''; // encode again next time (the onnx engine reports a failed text.onnx run here)
    setState('error', `Error: ${(e as Error).message}`);
  }
}

ui.image.addEventListener('change', async () => {
  const file = ui.image.files?.[0];
  if (!file) return;
  try {
    const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
    picked = { image: bmp, width: bmp.width, height: bmp.height, name: file.name };
  } catch {
    setState('error', `Cannot read ${file.name} as an image.`);
    return;
  }
  await run();
});
ui.form.addEventListener('submit', (e) => { e.preventDefault(); void run(); });
ui.backend.value = backendName;
ui.backend.addEventListener('change', () => {
  params.set('backend', ui.backend.value);
  location.search = params.toString();
});
ui.engine.addEventListener('change', () => {
  params.set('engine', ui.engine.value);
  location.search = params.toString();
});

/** ?engine= when given, else onnx when the model directory holds an ONNX export, else tfjs. */
async function chooseEngine(): Promise<Engine> {
  if (engineParam === 'tfjs' || engineParam === 'onnx') return engineParam;
  if (engineParam !== null) throw new Error(`unknown engine '${engineParam}': use tfjs or onnx`);
  return (await hasOnnxExport(modelUrl)) ? 'onnx' : 'tfjs';
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/** Loads the model with the chosen engine; returns the status line's description. */
async function loadDetector(backend: string): Promise<string> {
  if (engine === 'tfjs') {
    const det = await BrowserDetector.load(modelUrl);
    detector = det;
    return `${(det.model.store.count() / 1e6).toFixed(1)}M parameters, ${backend}`;
  }
  threads = configureOrtWeb('./', threadsParam === null ? undefined : Number(threadsParam)); // throws for a bad ?threads=
  const det = await BrowserOnnxDetector.load(modelUrl);
  detector = det;
  const l = det.loaded;
  return `onnx: image.onnx ${mb(l.imageBytes)} MB + text.onnx ${mb(l.textBytes)} MB${l.hashed ? ', SHA-256 checked' : ''}, ` +
    `onnxruntime-web ${ORT_WEB_VERSION} wasm, ${threads} thread${threads === 1 ? '' : 's'}; scoring on TF.js ${backend}`;
}

async function start(): Promise<void> {
  try {
    setState('loading', `Starting TF.js (${backendName})…`);
    const backend = await initBrowserBackend(backendName);
    engine = await chooseEngine();
    ui.engine.value = engine;
    setState('loading', `Loading the model from ${modelUrl} (${engine})…`);
    const what = await loadDetector(backend);
    window.detclip = { detector: detector!, engine, threads, last: [], numTensors };
    setState('ready', `Model ready (${what}). Pick an image.`);
  } catch (e) {
    setState('error', `Could not load the model: ${(e as Error).message}`);
  }
}
void start();
