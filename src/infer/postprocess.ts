// Detection post-processing (mmdetection ATSS test settings): per-class scores sigmoid(logit) above a threshold,
// top `preNms` candidates, score × sigmoid(centerness), class-aware NMS, at most `maxDetections` per image.
import { batchedNms } from '../ops/nms.ts';

export interface PostprocessOptions {
  scoreThreshold?: number;  // on the class probability, before the centerness factor (mmdet: 0.05)
  preNms?: number;          // candidates kept before NMS (mmdet: 1000)
  nmsThreshold?: number;    // IoU (mmdet ATSS: 0.6)
  maxDetections?: number;   // per image (COCO: 100; LVIS: 300)
  useCenterness?: boolean;  // multiply by sigmoid(centerness) (ATSS/FCOS)
}
export const POSTPROCESS_DEFAULTS: Required<PostprocessOptions> = {
  scoreThreshold: 0.05, preNms: 1000, nmsThreshold: 0.6, maxDetections: 100, useCenterness: true,
};

export interface RawDetection { box: [number, number, number, number]; score: number; label: number }

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * logits [K*M] row-major (anchor-major), centerness [K] logits, boxes [K*4] xyxy in input pixels.
 * Boxes are clipped to `clip` = [h, w] of the valid image region, then multiplied by `scale` (input -> original).
 */
export function postprocess(logits: Float32Array, numConcepts: number, centerness: Float32Array, boxes: Float32Array,
  clip: [number, number], scale: [number, number], opts: PostprocessOptions = {}): RawDetection[] {
  const o = { ...POSTPROCESS_DEFAULTS, ...opts };
  const k = centerness.length;
  const m = numConcepts;
  if (logits.length !== k * m) throw new Error(`postprocess: logits has ${logits.length} values, expected ${k}x${m}`);
  // Threshold on the logit avoids k*m sigmoids: p > t  <=>  x > logit(t).
  const minLogit = Math.log(o.scoreThreshold / (1 - o.scoreThreshold));
  const cand: { idx: number; p: number }[] = [];
  for (let i = 0; i < k * m; i++) if (logits[i]! > minLogit) cand.push({ idx: i, p: logits[i]! });
  cand.sort((a, b) => b.p - a.p || a.idx - b.idx);
  const top = cand.slice(0, o.preNms);
  const n = top.length;
  const bx = new Float32Array(n * 4);
  const sc = new Float32Array(n);
  const cl = new Int32Array(n);
  const [h, w] = clip;
  top.forEach(({ idx, p }, j) => {
    const a = Math.floor(idx / m);
    cl[j] = idx % m;
    sc[j] = sigmoid(p) * (o.useCenterness ? sigmoid(centerness[a]!) : 1);
    bx[j * 4] = Math.min(Math.max(boxes[a * 4]!, 0), w);
    bx[j * 4 + 1] = Math.min(Math.max(boxes[a * 4 + 1]!, 0), h);
    bx[j * 4 + 2] = Math.min(Math.max(boxes[a * 4 + 2]!, 0), w);
    bx[j * 4 + 3] = Math.min(Math.max(boxes[a * 4 + 3]!, 0), h);
  });
  const keep = batchedNms(bx, sc, cl, o.nmsThreshold);
  const out: RawDetection[] = [];
  for (const j of keep.slice(0, o.maxDetections)) {
    out.push({
      box: [bx[j * 4]! * scale[1], bx[j * 4 + 1]! * scale[0], bx[j * 4 + 2]! * scale[1], bx[j * 4 + 3]! * scale[0]],
      score: sc[j]!, label: cl[j]!,
    });
  }
  return out;
}
