import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { imageTextLoss, imageTextLossFromSimilarity, imageTextScores, regionPhraseSimilarity } from '../../src/loss/imageTextLoss.ts';

before(async () => { await setupBackend(); });

// Hand example, B = 2 images, K = 3 anchors, D = 2, M = 3 phrases (all unit vectors).
// image 0 regions: (1,0) (0,1) (0.6,0.8); image 1 regions: (0.8,0.6) (-1,0) (0,-1)
// phrases: p0 (1,0), p1 (0,1), p2 (0.6,-0.8); proposals: image 0 -> [0, 2] (anchor 1 left out), image 1 -> [0, 2]
// text 0 = {p0, p1}, text 1 = {p2}.
// cosines on proposals:  image 0: p0 [1, 0.6]  p1 [0, 0.8]  p2 [0.6, -0.28]
//                        image 1: p0 [0.8, 0]  p1 [0.6, -1] p2 [0, 0.8]
// 1-to-1 (max): image 0: s = [1, 0.8, 0.6]; image 1: s = [0.8, 0.6, 0.8]
// s(I,T) [image, text]: [[(1+0.8)/2, 0.6], [(0.8+0.6)/2, 0.8]] = [[0.9, 0.6], [0.7, 0.8]]
const REGIONS = [[[1, 0], [0, 1], [0.6, 0.8]], [[0.8, 0.6], [-1, 0], [0, -1]]];
const PHRASES = [[1, 0], [0, 1], [0.6, -0.8]];
const PROPOSALS = [Int32Array.from([0, 2]), Int32Array.from([2, 0])];
const TEXTS = [[0, 1], [2]];
const softplus = (x: number) => Math.log1p(Math.exp(x));
// CE of 2 logits where the target's logit exceeds the other by d, with label smoothing 0.1 (q = 0.95 / 0.05):
// -0.95·log σ(d) - 0.05·log σ(-d) = 0.95·softplus(-d) + 0.05·softplus(d)
const ce2 = (d: number) => 0.95 * softplus(-d) + 0.05 * softplus(d);

function inputs() {
  return { r: tf.tensor3d(REGIONS), p: tf.tensor2d(PHRASES) };
}

test('imageTextScores, 1-to-1: hand-computed [image, text] matrix; non-proposal anchors are ignored', () => {
  const { r, p } = inputs();
  const s = imageTextScores(r, p, PROPOSALS, TEXTS);
  assert.deepEqual(s.shape, [2, 2]);
  assertClose(s.dataSync(), [0.9, 0.6, 0.7, 0.8], { rtol: 1e-6, atol: 1e-6 });
  // With anchor 1 of image 0 allowed, p1 finds (0,1): s(I0,T0) = (1 + 1)/2.
  const all = imageTextScores(r, p, [Int32Array.from([0, 1, 2]), PROPOSALS[1]!], TEXTS);
  assertClose(all.dataSync(), [1, 0.6, 0.7, 0.8], { rtol: 1e-6, atol: 1e-6 });
  tf.dispose([r, p, s, all]);
});

test('imageTextLoss, text->image, tau 0.5, label smoothing 0.1: hand value', () => {
  const { r, p } = inputs();
  // text 0 over images: [0.9, 0.7]/0.5 -> target leads by 0.4; text 1: [0.6, 0.8]/0.5 -> target leads by 0.4.
  const l = imageTextLoss(r, p, PROPOSALS, TEXTS);
  assertClose(l.dataSync(), [(ce2(0.4) + ce2(0.4)) / 2], { rtol: 1e-5, atol: 1e-6 });
  // No smoothing, tau 1: text 0 CE = softplus(-0.2), text 1 CE = softplus(-0.2).
  const plain = imageTextLoss(r, p, PROPOSALS, TEXTS, { tau: 1, labelSmoothing: 0 });
  assertClose(plain.dataSync(), [softplus(-0.2)], { rtol: 1e-5, atol: 1e-6 });
  tf.dispose([r, p, l, plain]);
});

test('centerImages: a per-image offset of every score changes nothing (hand values with and without)', async () => {
  await expectNoLeak(() => {
    const { r, p } = inputs();
    // image 0 scores +0.5 against everything: s(I,T) = [[1.4, 1.1], [0.7, 0.8]].
    const sim = tf.tidy(() => tf.add(regionPhraseSimilarity(r, p), tf.tensor3d([0.5, 0], [2, 1, 1])));
    // plain: text 0 over images [1.4, 0.7]/0.5 -> target leads by 1.4; text 1 [1.1, 0.8]/0.5 -> target trails by 0.6
    const plain = imageTextLossFromSimilarity(sim, PROPOSALS, TEXTS);
    assertClose(plain.dataSync(), [(ce2(1.4) + ce2(-0.6)) / 2], { rtol: 1e-5, atol: 1e-6 });
    // centred rows: [[0.15, -0.15], [-0.05, 0.05]] as without the offset: both targets lead by 0.4
    const centred = imageTextLossFromSimilarity(sim, PROPOSALS, TEXTS, { centerImages: true });
    assertClose(centred.dataSync(), [(ce2(0.4) + ce2(0.4)) / 2], { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([r, p, sim, plain, centred]);
  });
});

test('imageTextLoss symmetric averages text->image and image->text', () => {
  const { r, p } = inputs();
  // image 0 over texts: [0.9, 0.6]/0.5 -> leads by 0.6; image 1: [0.7, 0.8]/0.5 -> target (text 1) leads by 0.2.
  const t2i = (ce2(0.4) + ce2(0.4)) / 2;
  const i2t = (ce2(0.6) + ce2(0.2)) / 2;
  const l = imageTextLoss(r, p, PROPOSALS, TEXTS, { symmetric: true });
  assertClose(l.dataSync(), [(t2i + i2t) / 2], { rtol: 1e-5, atol: 1e-6 });
  tf.dispose([r, p, l]);
});

test('imageTextScores, 1-to-many: softmax(cos/tauT)-weighted sum over proposals; tiny tauT tends to the max', () => {
  const { r, p } = inputs();
  const wsum = (c: number[], t: number) => {
    const w = c.map((v) => Math.exp(v / t));
    const z = w.reduce((a, b) => a + b, 0);
    return c.reduce((a, v, i) => a + (w[i]! / z) * v, 0);
  };
  const cos = [[[1, 0.6], [0, 0.8], [0.6, -0.28]], [[0.8, 0], [0.6, -1], [0, 0.8]]]; // [image][phrase][proposal]
  const tauT = 0.5;
  const sj = cos.map((img) => img.map((c) => wsum(c, tauT)));
  const expected = [(sj[0]![0]! + sj[0]![1]!) / 2, sj[0]![2]!, (sj[1]![0]! + sj[1]![1]!) / 2, sj[1]![2]!];
  const s = imageTextScores(r, p, PROPOSALS, TEXTS, { mode: '1toMany', tauT });
  assertClose(s.dataSync(), expected, { rtol: 1e-5, atol: 1e-6 });
  const sharp = imageTextScores(r, p, PROPOSALS, TEXTS, { mode: '1toMany', tauT: 1e-3 });
  assertClose(sharp.dataSync(), [0.9, 0.6, 0.7, 0.8], { rtol: 1e-4, atol: 1e-4 });
  tf.dispose([r, p, s, sharp]);
});

test('imageTextLoss, B = 3, D = 3, a phrase shared by two texts, tau 0.5, smoothing 0.1', () => {
  // Regions are axis vectors; every anchor is a proposal. phrases: e0, e1, e2.
  // image 0: [e0, e1]; image 1: [e1, e1]; image 2: [e2, -e0]
  // texts: 0 -> {e0, e1}, 1 -> {e1}, 2 -> {e2, e0}
  // s(I,T): I0: T0 (1+1)/2=1, T1 1, T2 (0+1)/2=0.5
  //         I1: T0 (0+1)/2=0.5, T1 1, T2 (0+0)/2=0
  //         I2: T0 (0+0)/2=0, T1 0, T2 (1+0)/2=0.5     (max over [e2,-e0] of e0 is 0, of e1 is 0)
  const r = tf.tensor3d([[[1, 0, 0], [0, 1, 0]], [[0, 1, 0], [0, 1, 0]], [[0, 0, 1], [-1, 0, 0]]]);
  const p = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const props = [Int32Array.from([0, 1]), Int32Array.from([0, 1]), Int32Array.from([1, 0])];
  const texts = [[0, 1], [1], [2, 0]];
  const S = [[1, 1, 0.5], [0.5, 1, 0], [0, 0, 0.5]];
  const s = imageTextScores(r, p, props, texts);
  assertClose(s.dataSync(), S.flat(), { rtol: 1e-6, atol: 1e-6 });
  // text t: logits over images S[i][t]/0.5, q = 0.1/3 everywhere + 0.9 on image t.
  let total = 0;
  for (let t = 0; t < 3; t++) {
    const z = [0, 1, 2].map((i) => S[i]![t]! / 0.5);
    const lse = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
    total += z.reduce((a, v, i) => a - (0.1 / 3 + (i === t ? 0.9 : 0)) * (v - lse), 0);
  }
  const l = imageTextLoss(r, p, props, texts);
  assertClose(l.dataSync(), [total / 3], { rtol: 1e-5, atol: 1e-6 });
  tf.dispose([r, p, s, l]);
});

test('imageTextLoss gradients are finite; non-proposal anchors get exactly zero gradient', () => {
  const { r, p } = inputs();
  for (const mode of ['1to1', '1toMany'] as const) {
    const [gr, gp] = tf.grads((a: tf.Tensor, b: tf.Tensor) => imageTextLoss(a, b, PROPOSALS, TEXTS, { mode, symmetric: true }))([r, p]);
    const g = gr!.dataSync();
    assert.ok(g.every(Number.isFinite) && gp!.dataSync().every(Number.isFinite), `${mode}: finite`);
    assert.equal(g[2], 0); // image 0, anchor 1 (not a proposal)
    assert.equal(g[3], 0);
    assert.ok(g.some((v) => v !== 0), `${mode}: some gradient flows`);
    tf.dispose([gr!, gp!]);
  }
  tf.dispose([r, p]);
});

test('imageTextLoss rejects inconsistent inputs', () => {
  const { r, p } = inputs();
  assert.throws(() => imageTextLoss(r, p, [PROPOSALS[0]!], TEXTS), /proposal lists/);
  assert.throws(() => imageTextLoss(r, p, [Int32Array.from([]), PROPOSALS[1]!], TEXTS), /no proposals/);
  assert.throws(() => imageTextLoss(r, p, [Int32Array.from([3]), PROPOSALS[1]!], TEXTS), /outside/);
  assert.throws(() => imageTextLoss(r, p, PROPOSALS, [[0], [5]]), /phrase index 5/);
  assert.throws(() => imageTextLoss(r, p, PROPOSALS, [[0], []]), /no phrases/);
  tf.dispose([r, p]);
});

test('imageTextLoss and imageTextScores leak no tensors (forward and gradient)', async () => {
  const { r, p } = inputs();
  await expectNoLeak(() => {
    tf.dispose(imageTextScores(r, p, PROPOSALS, TEXTS, { mode: '1toMany' }));
    tf.dispose(imageTextLoss(r, p, PROPOSALS, TEXTS, { symmetric: true }));
    tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => imageTextLoss(a, b, PROPOSALS, TEXTS))([r, p]));
  });
  tf.dispose([r, p]);
});
