// The onnx engine's side of `npm run bench:compare`: the same inference as bench/train_step.ts (same random-init
// preset, synthetic images and concepts, vocabulary cached) on the model's ONNX export with onnxruntime-node.
//   npx tsx bench/onnxServe.ts --export DIR [--preset r50]
//       builds the preset as train_step.ts does (seed 0), saves it and exports it to DIR (once per compare run)
//   npx tsx bench/onnxServe.ts --serve --onnx DIR [--size 320] [--batch 2] [--concepts 80] [--threads N] [--plain-names]
//       one warm-up inference, then answers 'infer' / 'quit' lines on stdin with one JSON line each (compare.ts)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { initBackend } from '../src/backend/index.ts';
import { buildDetClip, saveModelDir } from '../src/model/detclip.ts';
import { resolveRecipe } from '../src/train/recipe.ts';
import { createDetector } from '../src/infer/detector.ts';
import { exportOnnx } from '../src/onnx/exportOnnx.ts';
import { ORT_VERSION } from '../src/onnx/ortSession.ts';
import { benchConcepts, benchImages, syntheticBatch } from './train_step.ts';

const argv = process.argv.slice(2);
const get = (flag: string): string | undefined => { const i = argv.indexOf(flag); return i >= 0 ? argv[i + 1] : undefined; };
const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

/** The preset's random-init model (as createBench builds it), saved to a temp dir and exported to `out`. */
async function exportPreset(out: string, preset: string): Promise<void> {
  const t0 = performance.now();
  await initBackend(get('--backend'));
  const weights = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-bench-onnx-weights-'));
  try {
    const model = buildDetClip(resolveRecipe(preset).model, 0);
    saveModelDir(weights, model, { inference: { enrich: true } });
    model.dispose();
    await exportOnnx(weights, out);
  } finally {
    fs.rmSync(weights, { recursive: true, force: true });
  }
  const bytes = ['image.onnx', 'text.onnx'].reduce((a, f) => a + fs.statSync(path.join(out, f)).size, 0);
  console.log(JSON.stringify({ exported: out, preset, seconds: (performance.now() - t0) / 1000, bytes }));
}

async function serve(dir: string): Promise<void> {
  const size = Number(get('--size') ?? 320);
  const threads = get('--threads') === undefined ? undefined : Number(get('--threads'));
  const backend = await initBackend(get('--backend'), { threads }); // tfjs scores (similarityLogits) at the same thread count
  const det = await createDetector({ weights: dir, engine: 'onnx', threads });
  const { names, texts } = benchConcepts(Number(get('--concepts') ?? 80), argv.includes('--plain-names'));
  det.setConcepts(names, texts);
  await det.encodeVocabulary(); // the cached vocabulary: not part of the timed inference
  const images = benchImages(syntheticBatch({ batch: Number(get('--batch') ?? 2), size }, texts), size);
  await det.detectPreprocessed(images); // warm-up
  console.log(JSON.stringify({ ready: true, onnxruntime: ORT_VERSION, threads: threads ?? os.availableParallelism(), scoring: backend }));
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = line.trim();
    if (cmd === 'quit') break;
    if (cmd !== 'infer') { console.log(JSON.stringify({ error: `unknown command '${cmd}'` })); continue; }
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await det.detectPreprocessed(images);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ inference_ms: ms, cpu_ms: (c.user + c.system) / 1000, peak_rss_mib: peakRssMiB() }));
  }
  rl.close();
  det.dispose();
}

const exportDir = get('--export');
const onnxDir = get('--onnx');
if (exportDir) await exportPreset(path.resolve(exportDir), get('--preset') ?? 'r50');
else if (onnxDir && argv.includes('--serve')) await serve(onnxDir);
else throw new Error('give --export DIR, or --serve --onnx DIR');
