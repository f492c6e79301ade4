// Training targets of detection / grounding data (CPU typed arrays, built outside the tape): the ATSS assignment
// turned into the region-concept 0/1 matrix, box targets and centerness targets; plus their tensor forms.
import * as tf from '@tensorflow/tfjs';
import { atssAssign, type AtssAnchors, type AtssOptions } from './atssAssign.ts';
import type { LocalizationTargets } from './localizationLoss.ts';

export interface ImageDetectionTargets {
  /** [K] gt index of each anchor, -1 for negatives. */
  assigned: Int32Array;
  /** [K*M_B] row-major: 1 where the anchor is assigned to a box of that concept. */
  classification: Float32Array;
  /** [K] 1 for positive anchors. */
  positive: Uint8Array;
  numPositive: number;
  /** [K*4] assigned gt box (xyxy) on positives, the anchor's own box elsewhere (finite filler); withLocalization only. */
  boxes?: Float32Array;
  /** [K] centerness of the assigned gt w.r.t. the anchor centre on positives, 0 elsewhere; withLocalization only. */
  centerness?: Float32Array;
}

export interface DetectionTargets {
  images: ImageDetectionTargets[];
  numAnchors: number;
  numConcepts: number;
  /** positive anchors: the focal / centerness normaliser (distributed: the sum over every rank's images) */
  numPositive: number;
  withLocalization: boolean;
  /** Σ centerness targets, the GIoU normaliser; when absent, summed over these images (distributed: all ranks') */
  centernessSum?: number;
}

export interface BuildTargetsInput {
  /** flat xyxy [K*4] anchors of all levels and the count per level (makeAnchors / the head). */
  anchors: AtssAnchors;
  /** [K*2] anchor centres (x, y); computed from the anchor boxes when absent. */
  points?: Float32Array;
  /** per image: gt boxes [G*4] xyxy in input pixels. */
  batchBoxes: Float32Array[];
  /** per image: [G] concept index (into the batch's M_B deduplicated concepts) of each box. */
  batchBoxLabels: Int32Array[];
  numConcepts: number;
  /** true for detection data (GIoU + centerness), false for grounding (alignment only). */
  withLocalization: boolean;
  /** ATSS options (topk, default 9). */
  atss?: AtssOptions;
}

/** FCOS/ATSS centerness sqrt(min(l,r)/max(l,r) · min(t,b)/max(t,b)) of a point w.r.t. a box (0 if outside). */
export function centernessTarget(px: number, py: number, x1: number, y1: number, x2: number, y2: number): number {
  const l = Math.max(0, px - x1), r = Math.max(0, x2 - px);
  const t = Math.max(0, py - y1), b = Math.max(0, y2 - py);
  if (Math.max(l, r) === 0 || Math.max(t, b) === 0) return 0;
  return Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(t, b) / Math.max(t, b)));
}

/** Targets of one image from an assignment ([K] gt index or -1). Pure; exported for tests and custom assigners. */
export function targetsFromAssignment(
  assigned: Int32Array,
  anchorBoxes: Float32Array,
  points: Float32Array,
  gtBoxes: Float32Array,
  gtLabels: Int32Array,
  numConcepts: number,
  withLocalization: boolean,
): ImageDetectionTargets {
  const K = assigned.length;
  const G = gtLabels.length;
  if (gtBoxes.length !== 4 * G) throw new Error(`detection targets: ${gtBoxes.length / 4} boxes but ${G} labels`);
  const classification = new Float32Array(K * numConcepts);
  const positive = new Uint8Array(K);
  const boxes = withLocalization ? anchorBoxes.slice(0, 4 * K) : undefined;
  const centerness = withLocalization ? new Float32Array(K) : undefined;
  let numPositive = 0;
  for (let k = 0; k < K; k++) {
    const g = assigned[k]!;
    if (g < 0) continue;
    if (g >= G) throw new Error(`detection targets: anchor ${k} assigned to gt ${g} of ${G}`);
    const label = gtLabels[g]!;
    if (!(label >= 0 && label < numConcepts)) throw new Error(`detection targets: gt ${g} has concept ${label}, outside [0, ${numConcepts})`);
    classification[k * numConcepts + label] = 1;
    positive[k] = 1;
    numPositive++;
    if (boxes && centerness) {
      for (let c = 0; c < 4; c++) boxes[4 * k + c] = gtBoxes[4 * g + c]!;
      centerness[k] = centernessTarget(points[2 * k]!, points[2 * k + 1]!, gtBoxes[4 * g]!, gtBoxes[4 * g + 1]!, gtBoxes[4 * g + 2]!, gtBoxes[4 * g + 3]!);
    }
  }
  return { assigned, classification, positive, numPositive, boxes, centerness };
}

/** Anchor centres [K*2] of flat xyxy boxes [K*4]. */
export function anchorCenters(boxes: Float32Array): Float32Array {
  const K = boxes.length / 4;
  const out = new Float32Array(2 * K);
  for (let k = 0; k < K; k++) {
    out[2 * k] = (boxes[4 * k]! + boxes[4 * k + 2]!) / 2;
    out[2 * k + 1] = (boxes[4 * k + 1]! + boxes[4 * k + 3]!) / 2;
  }
  return out;
}

/** ATSS-assign every image of a batch and build its targets. */
export function buildDetectionTargets(input: BuildTargetsInput): DetectionTargets {
  const { anchors, batchBoxes, batchBoxLabels, numConcepts, withLocalization } = input;
  const K = anchors.boxes.length / 4;
  const points = input.points ?? anchorCenters(anchors.boxes);
  if (points.length !== 2 * K) throw new Error(`detection targets: ${points.length / 2} points for ${K} anchors`);
  if (batchBoxes.length !== batchBoxLabels.length) throw new Error(`detection targets: ${batchBoxes.length} box lists, ${batchBoxLabels.length} label lists`);
  const images = batchBoxes.map((gt, i) => {
    const assigned = gt.length === 0 ? new Int32Array(K).fill(-1) : atssAssign(anchors, gt, input.atss).assigned;
    return targetsFromAssignment(assigned, anchors.boxes, points, gt, batchBoxLabels[i]!, numConcepts, withLocalization);
  });
  const numPositive = images.reduce((a, t) => a + t.numPositive, 0);
  return { images, numAnchors: K, numConcepts, numPositive, withLocalization };
}

function concat<T extends Float32Array | Uint8Array>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** The classification targets as one [B, K, M_B] float tensor. */
export function classificationTargetTensor(t: DetectionTargets): tf.Tensor3D {
  const data = concat(t.images.map((im) => im.classification), (n) => new Float32Array(n));
  return tf.tensor3d(data, [t.images.length, t.numAnchors, t.numConcepts]);
}

/** The localisation targets as tensors (caller disposes them, e.g. via tf.tidy / tf.dispose(Object.values(..))). */
export function localizationTargetTensors(t: DetectionTargets): LocalizationTargets {
  if (!t.withLocalization) throw new Error('localizationTargetTensors: targets were built without localisation');
  const B = t.images.length;
  const K = t.numAnchors;
  const boxes = concat(t.images.map((im) => im.boxes!), (n) => new Float32Array(n));
  const centerness = concat(t.images.map((im) => im.centerness!), (n) => new Float32Array(n));
  const positive = concat(t.images.map((im) => im.positive), (n) => new Uint8Array(n));
  const boxMask = new Uint8Array(4 * B * K);
  for (let i = 0; i < B * K; i++) if (positive[i]) boxMask.fill(1, 4 * i, 4 * i + 4);
  let centernessSum = 0;
  for (let i = 0; i < B * K; i++) centernessSum += centerness[i]!;
  if (t.centernessSum !== undefined) centernessSum = t.centernessSum;
  return {
    boxes: tf.tensor3d(boxes, [B, K, 4]),
    positiveBoxMask: tf.tensor3d(boxMask, [B, K, 4], 'bool'),
    positiveWeight: tf.tensor2d(Float32Array.from(positive), [B, K]),
    centerness: tf.tensor2d(centerness, [B, K]),
    numPositive: t.numPositive,
    centernessSum,
  };
}
