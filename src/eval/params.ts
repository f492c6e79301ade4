// Evaluation constants shared by pycocotools and lvis-api, computed bit-for-bit as numpy.linspace does.

/** numpy.linspace(start, stop, num): y[i] = i * ((stop - start) / (num - 1)) + start, last = stop exactly. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** IoU thresholds 0.50:0.05:0.95 (T = 10); note 0.9 is 0.8999999999999999 in the references too. */
export const IOU_THRESHOLDS: Float64Array = linspace(0.5, 0.95, 10);
/** Recall points 0:0.01:1 (R = 101). */
export const RECALL_THRESHOLDS: Float64Array = linspace(0, 1, 101);

/** Area ranges [lo, hi] (inclusive both ends) and their labels: all, small < 32², medium, large > 96². */
export const AREA_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0, 1e5 ** 2],
  [0, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
export const AREA_LABELS = ['all', 'small', 'medium', 'large'] as const;

/** Index of an IoU threshold by value (the references select with `==`, which holds for 0.5 and 0.75). */
export function iouIndex(thr: number): number {
  const i = IOU_THRESHOLDS.indexOf(thr);
  if (i < 0) throw new Error(`IoU threshold ${thr} is not one of the evaluation thresholds`);
  return i;
}

/** COCO default maxDets. */
export const COCO_MAX_DETS: readonly number[] = [1, 10, 100];
/** LVIS default detections per image. */
export const LVIS_MAX_DETS = 300;
/** Fixed AP default detections per category over the whole dataset (Dave et al. 2021). */
export const FIXED_AP_TOP_PER_CATEGORY = 10_000;
