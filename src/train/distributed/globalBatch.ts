// A rank's batch seen as its slice of the global batch. Concepts are deduplicated over the whole global batch
// (a detection image's negatives include every other image's concepts, as in one process), so each rank maps
// its batch-level indices onto the global list, built in the order collate would build it on the concatenation.
import type { Batch } from '../../data/types.ts';
import { conceptInterner } from '../../data/collate.ts';

/** What a rank tells the others about its batch (plain JSON). */
export interface ShardInfo {
  kind: string;
  iteration: number;       // -1 when the loader gave none
  concepts: string[];      // this rank's batch-level concepts
  imageConcepts: number[][]; // per image, indices into `concepts`
}

export interface GlobalView {
  /** this rank's images with concepts, boxLabels, imageConcepts and positiveConcepts in global indices */
  batch: Batch;
  /** per image of the global batch (rank order): its own concepts (the texts of image-text pairs), global indices */
  texts: number[][];
  offset: number;          // index of this rank's first image in the global batch
  total: number;           // images in the global batch
}

export function shardInfo(batch: Batch): ShardInfo {
  return { kind: batch.kind, iteration: batch.iteration ?? -1, concepts: batch.concepts, imageConcepts: batch.imageConcepts };
}

/** Throws unless every rank holds the same iteration and kind (one data kind per iteration everywhere). */
export function checkShardsAgree(shards: ShardInfo[]): void {
  const a = shards[0]!;
  shards.forEach((s, r) => {
    if (s.kind !== a.kind || s.iteration !== a.iteration) {
      throw new Error(`distributed: rank ${r} holds iteration ${s.iteration} (${s.kind}) but rank 0 holds iteration ${a.iteration} (${a.kind}); a rank skipped a batch whose images all failed to decode`);
    }
  });
}

/** The global view of `rank`'s batch, from every rank's ShardInfo (the same on every rank). */
export function globalizeBatch(batch: Batch, shards: ShardInfo[], rank: number): GlobalView {
  checkShardsAgree(shards);
  const { concepts, idOf } = conceptInterner();
  const texts: number[][] = [];
  let offset = 0;
  let mapping: Int32Array | undefined;
  shards.forEach((s, r) => {
    if (r === rank) offset = texts.length;
    for (const ic of s.imageConcepts) texts.push(ic.map((j) => idOf(s.concepts[j]!)));
    if (r === rank) mapping = Int32Array.from(s.concepts, idOf); // every local concept is some image's
  });
  const m = mapping!;
  const remap = (ids: readonly number[]): number[] => ids.map((j) => m[j]!);
  return {
    batch: {
      ...batch,
      concepts,
      imageConcepts: batch.imageConcepts.map(remap),
      positiveConcepts: batch.positiveConcepts.map(remap),
      boxLabels: batch.boxLabels.map((l) => Int32Array.from(l, (j) => m[j]!)),
    },
    texts, offset, total: texts.length,
  };
}
