// The main job: synthesise OVD-MNIST (if absent), train the tiny DetCLIPv2 jointly on its detection, grounding
// and image-text data (pairs at low resolution), evaluate base/novel AP on val, write examples.
import fs from 'node:fs';
import path from 'node:path';
import { generateOvdMnist, OVD_MNIST_VERSION } from '../data/synth/ovdMnist.ts';
import { ovdMnistDataConfig } from '../data/config.ts';
import { Detector, inferenceSettings } from '../infer/detector.ts';
import { saveVisualization } from '../infer/visualize.ts';
import { evaluateDetector, type DetectorEvalResult } from '../eval/evaluateDetector.ts';
import { loadModelDir } from '../model/detclip.ts';
import { atomicWriteFileSync } from '../io/atomicWrite.ts';
import { resolveRecipe } from './recipe.ts';
import { engineInfo } from '../backend/index.ts';
import { trainDetClip } from './trainDetClip.ts';

export interface DemoOptions {
  quick?: boolean;
  dataDir?: string;            // default data/ovd-mnist (quick: data/ovd-mnist-quick)
  out?: string;                // default runs/demo (quick: runs/demo-quick)
  overrides?: string[];        // key=value, as for `detclip train`
  // Detection concepts as "name, definition" (WordNet). Off by default here: novel OVD-MNIST names reach the
  // model only as bare words in captions, so test-time definitions would be sentences it never saw.
  enrich?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface DemoResult { outDir: string; seconds: number; eval: Omit<DetectorEvalResult, 'results'>; steps: number }

/**
 * The demo's departures from the tiny preset (docs/ablations.md, 1,000 steps on OVD-MNIST): the image-text loss at
 * weight 1 (paper: 0.1) with per-image centring of its scores, so that it leaves chance from scratch. With the
 * colour-free pair captions this doubles novel AP50 (0.030 -> 0.058); with colour words in the captions it hurts.
 */
export const DEMO_OVERRIDES: readonly string[] = ['loss.contrastive=1', 'imageText.centerImages=true'];

/** Steps of the full demo on the native engine (measured: see runDemo's log and BENCHMARKS.md). */
const NATIVE_STEPS = 2000;

/**
 * Demo sizes: the full demo fits 10 minutes on 2 cores; quick (tests) about a minute. The native engine trains
 * the tiny model ~1.5x faster than wasm on the demo's batches, so it gets more steps in the same time.
 */
const SIZES = {
  full: { train: 6000, val: 500, poolLimit: undefined as number | undefined, steps: 1100, nativeSteps: NATIVE_STEPS, evalImages: undefined as number | undefined },
  quick: { train: 150, val: 20, poolLimit: 60, steps: 6, nativeSteps: 6, evalImages: 20 },
};

/** meta.json's version of an OVD-MNIST folder (undefined: no folder or no readable meta.json). */
function datasetVersion(dir: string): number | undefined {
  try {
    const v = (JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** An OVD-MNIST folder made by another version of the generator is moved aside (the demo then makes a new one). */
export function setAsideStaleDataset(dir: string, log: (l: string) => void): boolean {
  const version = datasetVersion(dir);
  if (version === undefined || version === OVD_MNIST_VERSION) return false;
  log(`${dir} holds OVD-MNIST version ${version}; this detclip makes version ${OVD_MNIST_VERSION}`);
  setAside(dir, log);
  return true;
}

/** Moves an earlier run (or dataset) aside instead of deleting it (never lose a user's results). */
function setAside(dir: string, log: (l: string) => void): void {
  if (!fs.existsSync(dir)) return;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const to = `${dir}-${stamp}`;
  fs.renameSync(dir, to);
  log(`earlier run moved to ${to}`);
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const t0 = performance.now();
  const log = o.log ?? ((): void => {}); // the CLI passes its stderr logger; the library itself prints nothing
  const size = o.quick ? SIZES.quick : SIZES.full;
  const dataDir = o.dataDir ?? (o.quick ? 'data/ovd-mnist-quick' : 'data/ovd-mnist');
  const outDir = o.out ?? (o.quick ? 'runs/demo-quick' : 'runs/demo');
  setAsideStaleDataset(dataDir, log);
  if (!fs.existsSync(path.join(dataDir, 'val.json'))) {
    log(`synthesising OVD-MNIST into ${dataDir} (${size.train} training + ${size.val} val images)`);
    const s = await generateOvdMnist({ out: dataDir, seed: 0, train: size.train, val: size.val, poolLimit: size.poolLimit });
    log(`  done in ${s.seconds.toFixed(1)} s`);
  }
  const { engine, threads } = engineInfo();
  const steps = engine === 'torch' ? size.nativeSteps : size.steps;
  const recipe = resolveRecipe('tiny', [`train.steps=${steps}`, 'train.evalEvery=0', ...DEMO_OVERRIDES, ...(o.overrides ?? [])]);
  setAside(outDir, log);
  log(`engine: ${engine}, ${threads} thread(s); start: random init (no pretrained weights)`);
  log(`training the tiny DetCLIPv2 for ${recipe.train.train.steps} steps (detection/grounding ${recipe.train.data.detection.shortSide}px ` +
    `batch ${recipe.train.data.detection.batchSize}, pairs ${recipe.train.data.imageText.shortSide}px batch ${recipe.train.data.imageText.batchSize})`);
  const trained = await trainDetClip({ model: recipe.model, train: recipe.train, data: ovdMnistDataConfig(dataDir, { enrich: o.enrich ?? false }), outDir, quiet: o.quiet, log });
  trained.model.dispose();
  const { model, extra } = loadModelDir(trained.modelDir);
  const det = new Detector(model, inferenceSettings(model, extra));
  try {
    log('evaluating on OVD-MNIST val (all 20 categories as the vocabulary)');
    const valFile = path.join(dataDir, 'val.json');
    const ev = await evaluateDetector(det, valFile, { limit: size.evalImages });
    const val = JSON.parse(fs.readFileSync(valFile, 'utf8')) as { images: { file_name: string }[] };
    fs.mkdirSync(path.join(outDir, 'examples'), { recursive: true });
    for (const im of val.images.slice(0, 6)) {
      const file = path.join(dataDir, im.file_name);
      const dets = await det.detect(file, { scoreThreshold: 0.3, maxDetections: 10 });
      await saveVisualization(file, dets, path.join(outDir, 'examples', path.basename(im.file_name).replace(/\.\w+$/, '.png')));
    }
    const { results: _r, ...summary } = ev;
    const seconds = (performance.now() - t0) / 1000;
    atomicWriteFileSync(path.join(outDir, 'metrics.json'), JSON.stringify({ ...summary, trainSeconds: trained.seconds, seconds, steps: trained.step, engine, threads }, null, 2) + '\n');
    return { outDir, seconds, eval: summary, steps: trained.step };
  } finally {
    det.dispose();
  }
}

/** The table the demo prints. */
export function formatDemoTable(r: DemoResult): string {
  const f = (x: number | undefined): string => (x === undefined || x < 0 ? '   n/a' : x.toFixed(3).padStart(6));
  const rows = [
    ['base', r.eval.base?.AP, r.eval.base?.AP50],
    ['novel', r.eval.novel?.AP, r.eval.novel?.AP50],
    ['all', r.eval.stats.AP, r.eval.stats.AP50],
  ] as const;
  return ['split       AP    AP50', ...rows.map(([n, ap, ap50]) => `${n.padEnd(6)}  ${f(ap)}  ${f(ap50)}`),
    `${r.steps} steps, ${r.eval.images} val images, wall time ${r.seconds.toFixed(1)} s; results in ${r.outDir}`].join('\n');
}
