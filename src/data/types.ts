// The unified triplet (image, boxes, concepts) every data source becomes, and the batch the trainer consumes.

export type SampleKind = 'detection' | 'grounding' | 'imageText';
export const SAMPLE_KINDS: readonly SampleKind[] = ['detection', 'grounding', 'imageText'];

/** One unified triplet, before image decoding. */
export interface Sample {
  kind: SampleKind;
  source: string;                    // file the record came from
  record: string;                    // record id / line number, for error messages
  image: string | Uint8Array;        // resolved path, or encoded bytes (tar shards)
  width?: number; height?: number;   // original size when known
  boxes: number[][];                 // [n][4] xyxy in original pixels (empty for imageText)
  boxConcepts: number[];             // [n] index into `concepts` of each box's concept
  concepts: string[];                // positives first (detection: enriched "name, definition" text), then negatives
  numPositive: number;
  caption?: string;
}

/** What one training iteration consumes (plain data: built in worker threads). */
export interface Batch {
  kind: SampleKind;
  height: number; width: number;     // padded input size (all images of the batch share it)
  pixels: Float32Array;              // [B, H, W, 3] normalised (ImageNet mean/std on 0..1 RGB by default)
  imageSizes: [number, number][];    // per image [h, w] of the valid (unpadded) region
  boxes: Float32Array[];             // per image [n*4] xyxy in input pixels after resize/flip/clip
  boxLabels: Int32Array[];           // per image [n] index into `concepts` (batch-level, deduplicated)
  concepts: string[];                // the batch's deduplicated concept texts (M_B)
  imageConcepts: number[][];         // per image: indices into `concepts` of that image's own concepts
  /** per image: indices into `concepts` of its positives (det/grounding: box concepts; imageText: caption + phrases) */
  positiveConcepts: number[][];
  captions: (string | undefined)[];  // per image caption (imageText, grounding), for logging
  records: string[];                 // per image "source#record", for error messages
  iteration?: number;                // the loader iteration it was drawn in (distributed ranks check they agree)
}

/** One problem found in a dataset: always names the file and the record. */
export interface DataIssue {
  file: string;
  record: string;                    // e.g. "line 12", "image 397133", "annotation 55"
  message: string;
}

/** Formats an issue as the one line a user sees. */
export function formatIssue(i: DataIssue): string {
  return `${i.file}: ${i.record}: ${i.message}`;
}

/** Called for each bad record; readers skip the record after calling it. It may throw to stop reading. */
export type IssueHandler = (issue: DataIssue) => void;

/** A reader over one dataset file. `samples()` streams positives-only samples (no negatives yet). */
export interface SampleSource {
  kind: SampleKind;
  file: string;
  /** detection: every category's concept text (index = label), used to draw absent negatives */
  vocabulary?: string[];
  samples(onIssue: IssueHandler): AsyncGenerator<Sample>;
}
