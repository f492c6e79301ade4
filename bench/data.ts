// Data pipeline throughput: images/s of decode + augment (resize, jitter, flip, normalise) + collate, at
// 128 px (OVD-MNIST-like 128x128 PNGs, square mode) and 640 px (COCO-like 800x600 JPEGs, short side 640),
// in-process and with worker threads; plus OVD-MNIST generation speed.
//   npx tsx bench/data.ts [--images N] [--batch B] [--workers 0,1,2] [--synth N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../src/ops/rng.ts';
import { collate } from '../src/data/collate.ts';
import { IMAGENET_NORM, type ImageJob } from '../src/data/imageOps.ts';
import { drawAugment, type AugmentSpec } from '../src/data/transforms.ts';
import { ImageLoaderPool } from '../src/data/workerPool.ts';
import { generateOvdMnist } from '../src/data/synth/ovdMnist.ts';
import type { Sample } from '../src/data/types.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}
const N = Number(arg('images', '96'));
const B = Number(arg('batch', '8'));
const WORKERS = arg('workers', '0,1,2').split(',').map(Number);
const SYNTH = Number(arg('synth', '3000'));

/** Seeded photo-like images: smooth gradients plus noise, so codecs do real work. */
async function makeImages(dir: string, n: number, w: number, h: number, format: 'png' | 'jpeg'): Promise<string[]> {
  const rng = new Rng(`bench-${w}x${h}`);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const rgb = Buffer.alloc(w * h * 3);
    const [a, b, c] = [rng.next() * 255, rng.next() * 255, rng.next() * 255];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        rgb[o] = (a + x * 0.3 + rng.int(40)) & 255;
        rgb[o + 1] = (b + y * 0.2 + rng.int(40)) & 255;
        rgb[o + 2] = (c + (x + y) * 0.1 + rng.int(40)) & 255;
      }
    const f = path.join(dir, `${w}x${h}-${i}.${format === 'png' ? 'png' : 'jpg'}`);
    const img = sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
    await (format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(f);
    files.push(f);
  }
  return files;
}

async function throughput(files: string[], spec: AugmentSpec, workers: number, padTo?: [number, number]): Promise<number> {
  const pool = new ImageLoaderPool(workers);
  const rng = new Rng(1);
  const sample = (f: string): Sample => ({ kind: 'detection', source: 'bench', record: f, image: f, boxes: [[10, 10, 60, 60]], boxConcepts: [0], concepts: ['x'], numPositive: 1 });
  const job = (f: string): ImageJob => ({ image: f, boxes: [[10, 10, 60, 60]], resize: spec.resize, draw: drawAugment(spec, rng), norm: IMAGENET_NORM, minBoxSize: 1 });
  // Warm-up (worker start-up, codec init) is not timed.
  await Promise.all(files.slice(0, Math.min(files.length, Math.max(2, workers * 2))).map((f) => pool.load(job(f))));
  const t0 = performance.now();
  // Two batches in flight, as the loader's prefetch does.
  let inflight: Promise<unknown>[] = [];
  for (let i = 0; i < files.length; i += B) {
    const chunk = files.slice(i, i + B);
    inflight.push(Promise.all(chunk.map((f) => pool.load(job(f)))).then((ims) => collate('detection', chunk.map(sample), ims, { padTo })));
    if (inflight.length >= 2) { await inflight.shift(); }
  }
  await Promise.all(inflight);
  inflight = [];
  const s = (performance.now() - t0) / 1000;
  await pool.close();
  return files.length / s;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-bench-data-'));
console.log(`cpus: ${os.cpus().length}, node ${process.version}, sharp ${sharp.versions.sharp} (vips ${sharp.versions.vips}), batch ${B}, ${N} images per case`);
const small = await makeImages(dir, N, 128, 128, 'png');
const large = await makeImages(dir, N, 800, 600, 'jpeg');
const cases: { name: string; files: string[]; spec: AugmentSpec; padTo?: [number, number] }[] = [
  { name: '128 px (128x128 PNG -> square 128, flip)', files: small, spec: { resize: { mode: 'square', size: 128 }, scaleJitter: [1, 1], flipProb: 0.5 }, padTo: [128, 128] },
  { name: '128 px + scale jitter 0.8-1.25 (crop/pad)', files: small, spec: { resize: { mode: 'square', size: 128 }, scaleJitter: [0.8, 1.25], flipProb: 0.5 }, padTo: [128, 128] },
  { name: '640 px (800x600 JPEG -> short side 640, max 1066, flip)', files: large, spec: { resize: { mode: 'shortSide', short: 640, max: 1066 }, scaleJitter: [1, 1], flipProb: 0.5 } },
];
console.log('\n| case | workers | images/s |\n|---|---|---|');
for (const c of cases)
  for (const w of WORKERS) console.log(`| ${c.name} | ${w} | ${(await throughput(c.files, c.spec, w, c.padTo)).toFixed(1)} |`);

if (SYNTH > 0) {
  const out = path.join(dir, 'ovd');
  const s = await generateOvdMnist({ out, train: SYNTH, val: 0, seed: 0 });
  console.log(`\nOVD-MNIST synth: ${SYNTH} training images at 128 px in ${s.seconds.toFixed(1)} s (${(SYNTH / s.seconds).toFixed(0)} images/s, glyph loading included)`);
}
fs.rmSync(dir, { recursive: true, force: true });
