// Collate loaded images and their samples into one Batch: pad images to a shared size, deduplicate the
// batch's concepts (M_B) and map every box and image concept into that batch-level list.
import type { LoadedImage } from './imageOps.ts';
import type { Batch, Sample, SampleKind } from './types.ts';

export interface CollateOptions {
  padTo?: [number, number];   // fixed [H, W] (square mode); else the batch max rounded up to padDivisor
  padDivisor?: number;        // e.g. 32 so every FPN level divides evenly (default 32)
}

const roundUp = (v: number, d: number): number => Math.ceil(v / d) * d;

/** Batch-level concept ids in first-seen order: `idOf(text)` gives a text's id, `concepts` every text by id. */
export function conceptInterner(): { concepts: string[]; idOf: (text: string) => number } {
  const concepts: string[] = [];
  const index = new Map<string, number>();
  const idOf = (t: string): number => {
    let i = index.get(t);
    if (i === undefined) { i = concepts.length; index.set(t, i); concepts.push(t); }
    return i;
  };
  return { concepts, idOf };
}

export function collate(kind: SampleKind, samples: Sample[], images: LoadedImage[], opts: CollateOptions = {}): Batch {
  if (samples.length !== images.length || samples.length === 0) throw new Error(`collate: ${samples.length} samples vs ${images.length} images`);
  const d = opts.padDivisor ?? 32;
  const H = opts.padTo?.[0] ?? roundUp(Math.max(...images.map((im) => im.height)), d);
  const W = opts.padTo?.[1] ?? roundUp(Math.max(...images.map((im) => im.width)), d);
  const pixels = new Float32Array(samples.length * H * W * 3); // zero padding = the mean colour after normalisation
  images.forEach((im, b) => {
    if (im.height > H || im.width > W) throw new Error(`collate: image ${im.width}x${im.height} exceeds the ${W}x${H} batch`);
    const row = im.width * 3;
    for (let y = 0; y < im.height; y++) pixels.set(im.pixels.subarray(y * row, (y + 1) * row), ((b * H + y) * W) * 3);
  });

  const { concepts, idOf } = conceptInterner();
  const imageConcepts = samples.map((s) => [...new Set(s.concepts.map(idOf))]);
  const positiveConcepts = samples.map((s) => [...new Set(s.concepts.slice(0, s.numPositive).map(idOf))]);
  const boxLabels = samples.map((s, b) => Int32Array.from(images[b]!.kept, (k) => idOf(s.concepts[s.boxConcepts[k]!]!)));

  return {
    kind, height: H, width: W, pixels,
    imageSizes: images.map((im) => [im.height, im.width] as [number, number]),
    boxes: images.map((im) => im.boxes),
    boxLabels, concepts, imageConcepts, positiveConcepts,
    captions: samples.map((s) => s.caption),
    records: samples.map((s) => `${s.source}#${s.record}`),
  };
}
