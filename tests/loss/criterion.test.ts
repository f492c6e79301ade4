import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { computeLosses, weightedTotal } from '../../src/loss/criterion.ts';
import { buildDetectionTargets, type DetectionTargets } from '../../src/loss/detectionTargets.ts';
import { makeAnchors } from '../../src/loss/atssAssign.ts';
import { regionObjectness, selectProposalsSync } from '../../src/loss/proposalSelect.ts';
import { DEFAULT_LOSS_CONFIG, LOSS_WEIGHTS_APPENDIX, parseLossConfig } from '../../src/loss/lossConfig.ts';
import { Rng } from '../../src/ops/rng.ts';

before(async () => { await setupBackend(); });

// ---------------------------------------------------------------------------------------------
// A seeded tiny detection batch and an independent float64 reference written from the formulas.
// ---------------------------------------------------------------------------------------------
const B = 2, M = 3;
const anchors = makeAnchors([[8, 8], [4, 4]], [8, 16], 2); // 64x64 image, K = 80
const K = 80;

function detectionBatch(seed: number) {
  const rng = new Rng(seed);
  const batchBoxes: Float32Array[] = [];
  const batchBoxLabels: Int32Array[] = [];
  for (let i = 0; i < B; i++) {
    const boxes: number[] = [];
    for (let g = 0; g < 2; g++) {
      const x1 = rng.uniform(0, 36), y1 = rng.uniform(0, 36);
      boxes.push(x1, y1, x1 + rng.uniform(12, 28), y1 + rng.uniform(12, 28));
    }
    batchBoxes.push(Float32Array.from(boxes));
    batchBoxLabels.push(Int32Array.from([rng.int(M), rng.int(M)]));
  }
  const logits = Float32Array.from({ length: B * K * M }, () => rng.normal(0, 2));
  const pred = new Float32Array(B * K * 4);
  for (let i = 0; i < B * K; i++) {
    const a = i % K;
    const cx = anchors.points[2 * a]! + rng.uniform(-4, 4), cy = anchors.points[2 * a + 1]! + rng.uniform(-4, 4);
    const hw = rng.uniform(4, 20), hh = rng.uniform(4, 20);
    pred.set([cx - hw, cy - hh, cx + hw, cy + hh], 4 * i);
  }
  const centerness = Float32Array.from({ length: B * K }, () => rng.normal(0, 1));
  return { batchBoxes, batchBoxLabels, logits, pred, centerness };
}

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
function focal64(x: number, t: number, alpha = 0.25): number {
  const p = 1 / (1 + Math.exp(-x));
  const pt = p * t + (1 - p) * (1 - t);
  return (softplus(x) - x * t) * (1 - pt) ** 2 * (alpha * t + (1 - alpha) * (1 - t));
}
function giou64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const iw = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!), ih = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  const inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  const c = (Math.max(a[2]!, b[2]!) - Math.min(a[0]!, b[0]!)) * (Math.max(a[3]!, b[3]!) - Math.min(a[1]!, b[1]!));
  return 1 - (inter / (union + 1e-7) - (c - union) / (c + 1e-7));
}

/** Reference losses from the ATSS assignment only (one-hot, centerness, normalisers all recomputed here). */
function reference64(d: ReturnType<typeof detectionBatch>, t: DetectionTargets) {
  let focalSum = 0, numPos = 0, giouSum = 0, cSum = 0, bceSum = 0;
  for (let i = 0; i < B; i++) {
    const assigned = t.images[i]!.assigned;
    for (let k = 0; k < K; k++) {
      const g = assigned[k]!;
      for (let m = 0; m < M; m++) {
        const target = g >= 0 && d.batchBoxLabels[i]![g] === m ? 1 : 0;
        focalSum += focal64(d.logits[(i * K + k) * M + m]!, target);
      }
      if (g < 0) continue;
      numPos++;
      const gt = d.batchBoxes[i]!.subarray(4 * g, 4 * g + 4);
      const [px, py] = [anchors.points[2 * k]!, anchors.points[2 * k + 1]!];
      const l = px - gt[0]!, r = gt[2]! - px, tp = py - gt[1]!, bt = gt[3]! - py;
      const c = Math.sqrt((Math.min(l, r) / Math.max(l, r)) * (Math.min(tp, bt) / Math.max(tp, bt)));
      cSum += c;
      giouSum += c * giou64(d.pred.subarray(4 * (i * K + k), 4 * (i * K + k) + 4), gt);
      const x = d.centerness[i * K + k]!;
      bceSum += softplus(x) - x * c;
    }
  }
  const align = focalSum / Math.max(1, numPos);
  const giou = giouSum / Math.max(1, cSum);
  const center = bceSum / Math.max(1, numPos);
  return { align, giou, center, numPos };
}

function detectionInputs(d: ReturnType<typeof detectionBatch>) {
  return {
    logits: tf.tensor3d(d.logits, [B, K, M]),
    boxes: tf.tensor3d(d.pred, [B, K, 4]),
    centerness: tf.tensor2d(d.centerness, [B, K]),
  };
}

const values = (l: Record<string, tf.Scalar | undefined>) =>
  Object.fromEntries(Object.entries(l).map(([k, v]) => [k, v!.dataSync()[0]!]));

test('seeded golden: detection losses and total vs an independent float64 computation', () => {
  for (const seed of [11, 12]) {
    const d = detectionBatch(seed);
    const t = buildDetectionTargets({ anchors, points: anchors.points, batchBoxes: d.batchBoxes, batchBoxLabels: d.batchBoxLabels, numConcepts: M, withLocalization: true });
    const ref = reference64(d, t);
    assert.ok(ref.numPos >= 4, `seed ${seed}: enough positives (${ref.numPos})`);
    assert.equal(t.numPositive, ref.numPos);
    const x = detectionInputs(d);
    const losses = computeLosses('detection', x, t);
    assert.deepEqual(Object.keys(losses).sort(), ['align', 'center', 'giou']);
    const v = values(losses);
    const tol = { rtol: 1e-4, atol: 1e-6 };
    assertClose([v.align!], [ref.align], { ...tol, what: 'align' });
    assertClose([v.giou!], [ref.giou], { ...tol, what: 'giou' });
    assertClose([v.center!], [ref.center], { ...tol, what: 'center' });
    const total = weightedTotal(losses);
    assertClose(total.dataSync(), [ref.align + 2 * ref.giou + ref.center], { ...tol, what: 'total (α=2, β=1)' });
    const appendix = weightedTotal(losses, LOSS_WEIGHTS_APPENDIX);
    assertClose(appendix.dataSync(), [ref.align + ref.giou + 2 * ref.center], { ...tol, what: 'total (α=1, β=2)' });
    tf.dispose([...Object.values(x), ...Object.values(losses), total, appendix]);
  }
});

test('grounding: alignment only (no localisation), same alignment value as detection', () => {
  const d = detectionBatch(11);
  const base = { anchors, batchBoxes: d.batchBoxes, batchBoxLabels: d.batchBoxLabels, numConcepts: M };
  const tg = buildDetectionTargets({ ...base, withLocalization: false });
  const ref = reference64(d, buildDetectionTargets({ ...base, withLocalization: true }));
  const x = detectionInputs(d);
  const losses = computeLosses('grounding', { logits: x.logits }, tg);
  assert.deepEqual(Object.keys(losses), ['align']);
  assertClose(losses.align!.dataSync(), [ref.align], { rtol: 1e-4, atol: 1e-6 });
  assert.throws(() => computeLosses('detection', x, tg), /without localisation/);
  assert.throws(() => computeLosses('detection', { logits: x.logits }, buildDetectionTargets({ ...base, withLocalization: true })), /boxes/);
  const bad = tf.zeros([B, K, M + 1]);
  assert.throws(() => computeLosses('grounding', { logits: bad }, tg), /logits \[2,80,4\], targets \[2,80,3\]/);
  tf.dispose([...Object.values(x), losses.align!, bad]);
});

// ---------------------------------------------------------------------------------------------
// Image-text: seeded batch vs float64.
// ---------------------------------------------------------------------------------------------
const D = 4, P = 6;
function imageTextBatch(seed: number) {
  const rng = new Rng(seed);
  const unit = (n: number) => {
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      const v = Array.from({ length: D }, () => rng.normal());
      const norm = Math.hypot(...v);
      v.forEach((x, c) => { out[r * D + c] = x / norm; });
    }
    return out;
  };
  const Bi = 3;
  const regions = unit(Bi * K);
  const phrases = unit(P);
  const imageConcepts = [[0, 1], [2, 3, 0], [4, 5]];
  const proposals: Int32Array[] = Array.from({ length: Bi }, () => Int32Array.from(rng.sample(Array.from({ length: K }, (_, k) => k), 10)));
  return { Bi, regions, phrases, imageConcepts, proposals };
}

function imageText64(d: ReturnType<typeof imageTextBatch>, tau: number, eps: number): number {
  const { Bi, regions, phrases, imageConcepts, proposals } = d;
  const cos = (i: number, k: number, j: number) => {
    let s = 0;
    for (let c = 0; c < D; c++) s += regions[(i * K + k) * D + c]! * phrases[j * D + c]!;
    return s;
  };
  const S = Array.from({ length: Bi }, (_, i) => imageConcepts.map((js) =>
    js.reduce((a, j) => a + Math.max(...[...proposals[i]!].map((k) => cos(i, k, j))), 0) / js.length));
  let loss = 0;
  for (let t = 0; t < Bi; t++) {
    const z = S.map((row) => row[t]! / tau);
    const lse = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
    z.forEach((v, i) => { loss -= (eps / Bi + (i === t ? 1 - eps : 0)) * (v - lse); });
  }
  return loss / Bi;
}

test('seeded golden: image-text contrastive loss and λ-weighted total vs float64', () => {
  const d = imageTextBatch(21);
  const r = tf.tensor3d(d.regions, [d.Bi, K, D]);
  const p = tf.tensor2d(d.phrases, [P, D]);
  const losses = computeLosses('imageText', { regionEmbeddings: r, phraseEmbeddings: p }, { imageConcepts: d.imageConcepts, proposals: d.proposals });
  assert.deepEqual(Object.keys(losses), ['contrastive']);
  const ref = imageText64(d, 0.5, 0.1);
  assertClose(losses.contrastive!.dataSync(), [ref], { rtol: 1e-4, atol: 1e-6 });
  const total = weightedTotal(losses);
  assertClose(total.dataSync(), [0.1 * ref], { rtol: 1e-4, atol: 1e-7 });
  const cfg = parseLossConfig({ imageText: { tau: 1, labelSmoothing: 0 } }, 'test');
  const other = computeLosses('imageText', { regionEmbeddings: r, phraseEmbeddings: p }, { imageConcepts: d.imageConcepts, proposals: d.proposals }, cfg);
  assertClose(other.contrastive!.dataSync(), [imageText64(d, 1, 0)], { rtol: 1e-4, atol: 1e-6 });
  tf.dispose([r, p, losses.contrastive!, total, other.contrastive!]);
});

test('image-text without given proposals selects them (objectness, NMS, top-k) from the boxes', () => {
  const d = imageTextBatch(22);
  const r = tf.tensor3d(d.regions, [d.Bi, K, D]);
  const p = tf.tensor2d(d.phrases, [P, D]);
  const boxes = tf.tensor3d(Float32Array.from({ length: d.Bi * K * 4 }, (_, i) => anchors.boxes[i % (K * 4)]!), [d.Bi, K, 4]);
  const cfg = parseLossConfig({ imageText: { topK: 5 } }, 'test');
  const obj = regionObjectness(r, p);
  const proposals = selectProposalsSync(obj, boxes, { k: 5, nmsThreshold: 0.5 });
  assert.ok(proposals.every((q) => q.length === 5));
  const auto = computeLosses('imageText', { regionEmbeddings: r, phraseEmbeddings: p, boxes }, { imageConcepts: d.imageConcepts }, cfg);
  assertClose(auto.contrastive!.dataSync(), [imageText64({ ...d, proposals }, 0.5, 0.1)], { rtol: 1e-4, atol: 1e-6 });
  assert.throws(() => computeLosses('imageText', { regionEmbeddings: r, phraseEmbeddings: p }, { imageConcepts: d.imageConcepts }), /proposals or inputs\.boxes/);
  tf.dispose([r, p, boxes, obj, auto.contrastive!]);
});

test('weightedTotal: unknown loss names are rejected; an empty record too', () => {
  const a = tf.scalar(1);
  assert.throws(() => weightedTotal({ bogus: a } as never), /no weight for loss 'bogus'/);
  assert.throws(() => weightedTotal({}), /no losses/);
  const w = weightedTotal({ align: a, giou: a }, { ...DEFAULT_LOSS_CONFIG.weights, giou: 3 });
  assert.equal(w.dataSync()[0], 4);
  tf.dispose([a, w]);
});

test('a training step: tf.variableGrads through computeLosses + weightedTotal gives finite gradients, no leaks', async () => {
  const d = detectionBatch(11);
  const t = buildDetectionTargets({ anchors, batchBoxes: d.batchBoxes, batchBoxLabels: d.batchBoxLabels, numConcepts: M, withLocalization: true });
  const vLogits = tf.variable(tf.tensor3d(d.logits, [B, K, M]));
  const vBoxes = tf.variable(tf.tensor3d(d.pred, [B, K, 4]));
  const vCenter = tf.variable(tf.tensor2d(d.centerness, [B, K]));
  const it = imageTextBatch(21);
  const vRegions = tf.variable(tf.tensor3d(it.regions, [it.Bi, K, D]));
  const phrases = tf.tensor2d(it.phrases, [P, D]);
  await expectNoLeak(() => {
    const det = tf.variableGrads(() => weightedTotal(computeLosses('detection', { logits: vLogits, boxes: vBoxes, centerness: vCenter }, t)));
    for (const g of Object.values(det.grads)) assert.ok(g.dataSync().every(Number.isFinite));
    assert.equal(Object.keys(det.grads).length, 3);
    const img = tf.variableGrads(() => weightedTotal(computeLosses('imageText', { regionEmbeddings: vRegions, phraseEmbeddings: phrases }, { imageConcepts: it.imageConcepts, proposals: it.proposals })), [vRegions]);
    assert.ok(img.grads[vRegions.name]!.dataSync().every(Number.isFinite));
    tf.dispose([det.value, img.value, ...Object.values(det.grads), ...Object.values(img.grads)]);
  });
  tf.dispose([vLogits, vBoxes, vCenter, vRegions, phrases]);
});
