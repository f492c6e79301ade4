// OVD-MNIST: a small open-vocabulary detection world, generated offline from MNIST/Fashion-MNIST glyphs.
// Training images take turns as detection (base objects), grounding (base objects) and image-text pairs
// (base and novel objects, no boxes); val.json annotates all 20 categories. Every image has its own
// Rng.fork, so the output depends only on the seed.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../ops/rng.ts';
import { ConceptCounter, saveConceptDictionary, writeJsonAtomic } from '../conceptDictionary.ts';
import { enrichCategory } from '../wordnetEnrich.ts';
import { loadFashionClass, loadMnistTrain } from './glyphPool.ts';
import { groundingCaption, pairCaption } from './ovdMnistCaptions.ts';
import { OVD_MNIST_CATEGORIES, type OvdMnistCategory } from './ovdMnistCategories.ts';
import { renderScene, type Scene } from './ovdMnistRender.ts';

export interface SynthOptions {
  out: string;
  seed?: number;         // default 0
  train?: number;        // training images, split evenly over detection / grounding / pairs (default 9000)
  val?: number;          // validation images (default 1000)
  size?: number;         // image side in pixels (default 128)
  poolLimit?: number;    // glyphs read per category (tests use a few; default all allowed)
  valFraction?: number;  // share of each category's glyphs kept for val images only (default 0.1)
  concurrency?: number;  // PNG encodes in flight (default 8)
  onProgress?: (done: number, total: number) => void;
}

export interface SynthSummary {
  out: string; train: number; val: number; size: number; seed: number;
  detectionImages: number; groundingImages: number; pairImages: number;
  detectionBoxes: number; valBoxes: number; seconds: number;
}

/** meta.json `version`: 2 = pair captions without colour words (1: colours in 80 % of them). */
export const OVD_MNIST_VERSION = 2;

type Role = 'detection' | 'grounding' | 'pairs';
const ROLES: Role[] = ['detection', 'grounding', 'pairs'];

/** Glyph pools split into disjoint train/val parts per category. */
function glyphPools(limit: number | undefined, valFraction: number) {
  const mnist = loadMnistTrain(limit);
  const fashion = Array.from({ length: 10 }, (_, c) => loadFashionClass(c, limit));
  const split = (all: Uint8Array[]) => {
    const nVal = Math.max(1, Math.floor(all.length * valFraction));
    return { train: all.slice(0, all.length - nVal), val: all.slice(all.length - nVal) };
  };
  const pools = new Map(OVD_MNIST_CATEGORIES.map((c) => [c.id, split(c.source === 'mnist' ? mnist[c.label]! : fashion[c.label]!)]));
  return (part: 'train' | 'val') => (c: OvdMnistCategory) => pools.get(c.id)![part];
}

const cocoBox = (b: number[]) => [b[0]!, b[1]!, b[2]! - b[0]!, b[3]! - b[1]!];

export async function generateOvdMnist(o: SynthOptions): Promise<SynthSummary> {
  const t0 = performance.now();
  const seed = o.seed ?? 0;
  const nTrain = o.train ?? 9000;
  const nVal = o.val ?? 1000;
  const size = o.size ?? 128;
  if (size < 64) throw new Error(`--size must be >= 64 (glyphs are up to 64 px), got ${size}`);
  const root = new Rng(seed);
  const glyphs = glyphPools(o.poolLimit, o.valFraction ?? 0.1);
  const base = OVD_MNIST_CATEGORIES.filter((c) => c.split === 'base');
  fs.mkdirSync(path.join(o.out, 'images', 'train'), { recursive: true });
  fs.mkdirSync(path.join(o.out, 'images', 'val'), { recursive: true });

  // PNG encoding runs on sharp's threads while the next scene renders here.
  const inflight = new Set<Promise<void>>();
  const limit = o.concurrency ?? 8;
  let done = 0;
  const total = nTrain + nVal;
  const writePng = async (scene: Scene, rel: string): Promise<void> => {
    const p = sharp(scene.rgb, { raw: { width: size, height: size, channels: 3 } })
      .png({ compressionLevel: 6, adaptiveFiltering: true }).toFile(path.join(o.out, rel)).then(() => {
        inflight.delete(p);
        o.onProgress?.(++done, total);
      });
    inflight.add(p);
    if (inflight.size >= limit) await Promise.race(inflight);
  };
  const render = (rng: Rng, categories: readonly OvdMnistCategory[], part: 'train' | 'val'): Scene => {
    for (let attempt = 0; ; attempt++) {
      const s = renderScene({ size, categories, glyphs: glyphs(part) }, rng.fork(`attempt/${attempt}`));
      if (s.objects.length > 0 || attempt > 10) return s;
    }
  };

  const catJson = (cats: readonly OvdMnistCategory[]) => cats.map((c) => ({ id: c.id, name: c.name, split: c.split, synset: c.synset }));
  const det = { images: [] as object[], annotations: [] as object[], categories: catJson(base) };
  const val = { images: [] as object[], annotations: [] as object[], categories: catJson(OVD_MNIST_CATEGORIES) };
  const grounding: string[] = [];
  const pairs: string[] = [];
  const counter = new ConceptCounter();
  let annId = 1;

  for (let i = 0; i < nTrain; i++) {
    const role = ROLES[i % 3]!;
    const rng = root.fork(`train/${i}`);
    const scene = render(rng.fork('scene'), role === 'pairs' ? OVD_MNIST_CATEGORIES : base, 'train');
    const rel = `images/train/${String(i).padStart(6, '0')}.png`;
    await writePng(scene, rel);
    if (role === 'detection') {
      const id = det.images.length + 1;
      det.images.push({ id, file_name: rel, width: size, height: size });
      for (const ob of scene.objects) {
        const [x, y, w, h] = cocoBox(ob.box);
        det.annotations.push({ id: annId++, image_id: id, category_id: ob.category.id, bbox: [x, y, w, h], area: w! * h!, iscrowd: 0, color: ob.color });
      }
    } else if (role === 'grounding') {
      const g = groundingCaption(scene.objects, rng.fork('caption'));
      for (const r of g.regions) counter.add(r.phrase);
      grounding.push(JSON.stringify({
        filename: rel, height: size, width: size,
        grounding: { caption: g.caption, regions: g.regions.map((r) => ({ bbox: scene.objects[r.object]!.box, phrase: r.phrase, tokens_positive: [[r.start, r.end]] })) },
      }));
    } else {
      pairs.push(JSON.stringify({ image: rel, caption: pairCaption(scene.objects, rng.fork('caption')) }));
    }
  }
  let valBoxes = 0;
  for (let i = 0; i < nVal; i++) {
    const scene = render(root.fork(`val/${i}`), OVD_MNIST_CATEGORIES, 'val');
    const rel = `images/val/${String(i).padStart(6, '0')}.png`;
    await writePng(scene, rel);
    const id = i + 1;
    val.images.push({ id, file_name: rel, width: size, height: size });
    for (const ob of scene.objects) {
      const [x, y, w, h] = cocoBox(ob.box);
      val.annotations.push({ id: annId++, image_id: id, category_id: ob.category.id, bbox: [x, y, w, h], area: w! * h!, iscrowd: 0, color: ob.color });
      valBoxes++;
    }
  }
  await Promise.all(inflight);

  // Annotation files last, each written whole (temp file + rename).
  for (const c of base) counter.add(c.name);
  writeJsonAtomic(path.join(o.out, 'detection.json'), det);
  writeJsonAtomic(path.join(o.out, 'val.json'), val);
  writeTextAtomic(path.join(o.out, 'grounding.jsonl'), grounding.join('\n') + (grounding.length ? '\n' : ''));
  writeTextAtomic(path.join(o.out, 'pairs.jsonl'), pairs.join('\n') + (pairs.length ? '\n' : ''));
  saveConceptDictionary(path.join(o.out, 'concepts.json'), counter.entries(1), 1,
    OVD_MNIST_CATEGORIES.map((c) => ({ name: c.name, split: c.split, synset: c.synset, text: enrichCategory(c) })));
  const summary: SynthSummary = {
    out: o.out, train: nTrain, val: nVal, size, seed,
    detectionImages: det.images.length, groundingImages: grounding.length, pairImages: pairs.length,
    detectionBoxes: det.annotations.length, valBoxes, seconds: (performance.now() - t0) / 1000,
  };
  writeJsonAtomic(path.join(o.out, 'meta.json'), { dataset: 'OVD-MNIST', version: OVD_MNIST_VERSION, seed, size, train: nTrain, val: nVal,
    base: base.map((c) => c.name), novel: OVD_MNIST_CATEGORIES.filter((c) => c.split === 'novel').map((c) => c.name) });
  return summary;
}

function writeTextAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
