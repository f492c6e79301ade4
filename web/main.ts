// The browser page: loads a trained model served next to it (./model/ or ?model=URL), lets a person pick an image
// and type phrases, and draws the detections. Built by web/build.ts (esbuild); see docs/ARCHITECTURE.md "Inference".
import { BrowserDetector, initBrowserBackend, type BrowserBackend, type DrawableImage } from './browserDetector.ts';
import { drawDetections } from './drawCanvas.ts';
import { colorFor } from '../src/infer/drawStyle.ts';
import type { Detection } from '../src/infer/detectorCore.ts';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  image: $<HTMLInputElement>('image'), phrases: $<HTMLTextAreaElement>('phrases'), threshold: $<HTMLInputElement>('threshold'),
  maxdet: $<HTMLInputElement>('maxdet'), backend: $<HTMLSelectElement>('backend'), detect: $<HTMLButtonElement>('detect'),
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
let detector: BrowserDetector | null = null;
let vocabKey = '';
let picked: { image: DrawableImage; width: number; height: number; name: string } | null = null;

/** Exposed for scripted use and the end-to-end test. */
declare global { interface Window { detclip?: { detector: BrowserDetector; last: Detection[] } } }

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
    const dets = detector.detect(picked.image, {
      scoreThreshold: Number(ui.threshold.value) || 0, maxDetections: Math.max(1, Math.floor(Number(ui.maxdet.value) || 20)),
    });
    const ms = performance.now() - t0;
    drawDetections(ui.view, picked.image, picked.width, picked.height, dets);
    showResults(dets);
    window.detclip = { detector, last: dets };
    setState('done', `${dets.length} detection${dets.length === 1 ? '' : 's'} in ${picked.name} (${ms.toFixed(0)} ms, ${phrases.length} phrases).`);
  } catch (e) {
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

async function start(): Promise<void> {
  try {
    setState('loading', `Starting TF.js (${backendName})…`);
    const backend = await initBrowserBackend(backendName);
    setState('loading', `Loading the model from ${modelUrl}…`);
    detector = await BrowserDetector.load(modelUrl);
    const params = detector.model.store.count();
    window.detclip = { detector, last: [] };
    setState('ready', `Model ready (${(params / 1e6).toFixed(1)}M parameters, ${backend}). Pick an image.`);
  } catch (e) {
    setState('error', `Could not load the model: ${(e as Error).message}`);
  }
}
void start();
