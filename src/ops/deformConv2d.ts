// Modulated deformable convolution (DCNv2), torchvision.ops.deform_conv2d semantics, NHWC.
//
// Forward: every output position p and tap k samples x bilinearly at its own offset point; the samples,
// scaled by the mask, form im2col columns [P, K*Cin], and one matmul with the HWIO weight [K*Cin, Cout]
// gives the output. The sampling plan (4 corner rows per point and their weights) is plain index maths,
// done in one JS pass over the offset/mask values, so none of it is on the tape. The corner rows are
// copied with SparseSegmentSum (one row per segment; wasm's GatherV2 is ~50x slower) and combined with
// one more SparseSegmentSum over runs of 4 weighted rows.
//
// Backward (tf.customGrad):
//   dW   = (dOut^T cols)^T        dBias = sum dOut          dCols = dOut W^T
//   dx   = scatter-add of corner weight * dCols into the 4 corner rows (ScatterNd sums duplicates)
//   dots[r, c] = <x row of corner c, dCols[r]>  gives  dMask = sum_c bilinear_c * dots_c
//   and dOffset_y = mask * sum_c d(bilinear_c)/dy * dots_c (same for x), in JS.
// Corners outside the image get weight 0 (their index is clamped to a valid row), which is exactly
// torchvision's "outside pixels are 0": a point between -1 and 0 keeps the border pixel's fraction.
import * as tf from '@tensorflow/tfjs';

export interface DeformConvOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  offsetGroups?: number;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v == null ? [d, d] : typeof v === 'number' ? [v, v] : v;

interface Geometry {
  b: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  ho: number;
  wo: number;
  g: number;
  stride: [number, number];
  pad: [number, number];
  dil: [number, number];
}

function geometry(x: tf.Tensor4D, offset: tf.Tensor4D, mask: tf.Tensor4D, weight: tf.Tensor4D, bias: tf.Tensor1D | null, opts: DeformConvOptions): Geometry {
  const [b, h, w, cin] = x.shape;
  const [kh, kw, wcin, cout] = weight.shape;
  const stride = pair(opts.stride, 1);
  const pad = pair(opts.padding, 0);
  const dil = pair(opts.dilation, 1);
  const ho = Math.floor((h + 2 * pad[0] - (dil[0] * (kh - 1) + 1)) / stride[0]) + 1;
  const wo = Math.floor((w + 2 * pad[1] - (dil[1] * (kw - 1) + 1)) / stride[1]) + 1;
  const k = kh * kw;
  const g = opts.offsetGroups ?? offset.shape[3] / (2 * k);
  const fail = (msg: string): never => {
    throw new Error(`deformConv2d: ${msg}`);
  };
  if (wcin !== cin) fail(`weight expects ${wcin} input channels, x has ${cin}`);
  if (!(ho > 0 && wo > 0)) fail(`empty output for input ${h}x${w}`);
  if (!Number.isInteger(g) || g < 1 || cin % g !== 0) fail(`offset groups ${g} must be a positive divisor of ${cin}`);
  const want = (t: tf.Tensor4D, ch: number, what: string) => {
    const s = t.shape;
    if (s[0] !== b || s[1] !== ho || s[2] !== wo || s[3] !== ch) fail(`${what} is [${s}], expected [${[b, ho, wo, ch]}]`);
  };
  want(offset, 2 * g * k, 'offset');
  want(mask, g * k, 'mask');
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== cout)) fail(`bias is [${bias.shape}], expected [${cout}]`);
  return { b, h, w, cin, cout, kh, kw, ho, wo, g, stride, pad, dil };
}

/**
 * Sampling plan, computed in JS from the offset/mask values (plain index maths, nothing on the tape) for the
 * R = B*Ho*Wo*K*G points in (b, ho, wo, k, g) order; each point has 4 corners c = y0x0, y0x1, y1x0, y1x1.
 */
interface Plan {
  rows: Int32Array; // [R*4] row of x viewed as [B*H*W*G, Cin/G]; clamped into the image
  wts: Float32Array; // [R*4] mask * bilinear weight (0 for corners outside the image)
  bil: Float32Array; // [R*4] bilinear weight
  dBilDy: Float32Array; // [R*4] d bil / d y
  dBilDx: Float32Array; // [R*4] d bil / d x
  m: Float32Array; // [R] mask
}

const fr = Math.fround;

function makePlan(geo: Geometry, off: Float32Array, msk: Float32Array): Plan {
  const { b, h, w, kh, kw, ho, wo, g, stride, pad, dil } = geo;
  const k = kh * kw;
  const n = b * ho * wo * k * g;
  const rows = new Int32Array(n * 4);
  const wts = new Float32Array(n * 4);
  const bil = new Float32Array(n * 4);
  const dBilDy = new Float32Array(n * 4);
  const dBilDx = new Float32Array(n * 4);
  const m = new Float32Array(n);
  let r = 0;
  for (let bb = 0; bb < b; bb++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        const pix = (bb * ho + oy) * wo + ox;
        for (let t = 0; t < k; t++) {
          const by = oy * stride[0] - pad[0] + Math.floor(t / kw) * dil[0];
          const bx = ox * stride[1] - pad[1] + (t % kw) * dil[1];
          for (let gg = 0; gg < g; gg++, r++) {
            const o = pix * 2 * g * k + gg * 2 * k + 2 * t;
            // One float32 rounding of (integer grid + offset), as torchvision does.
            const y = fr(by + off[o]!);
            const x = fr(bx + off[o + 1]!);
            const y0 = Math.floor(y);
            const x0 = Math.floor(x);
            const ly = y - y0;
            const lx = x - x0;
            const vy0 = y0 >= 0 && y0 <= h - 1 ? 1 : 0;
            const vy1 = y0 >= -1 && y0 <= h - 2 ? 1 : 0;
            const vx0 = x0 >= 0 && x0 <= w - 1 ? 1 : 0;
            const vx1 = x0 >= -1 && x0 <= w - 2 ? 1 : 0;
            const wy0 = vy0 * fr(1 - ly);
            const wy1 = vy1 * ly;
            const wx0 = vx0 * fr(1 - lx);
            const wx1 = vx1 * lx;
            const mm = msk[pix * g * k + gg * k + t]!;
            m[r] = mm;
            const q = 4 * r;
            bil[q] = wy0 * wx0;
            bil[q + 1] = wy0 * wx1;
            bil[q + 2] = wy1 * wx0;
            bil[q + 3] = wy1 * wx1;
            for (let c = 0; c < 4; c++) wts[q + c] = mm * bil[q + c]!;
            dBilDy[q] = -vy0 * wx0;
            dBilDy[q + 1] = -vy0 * wx1;
            dBilDy[q + 2] = vy1 * wx0;
            dBilDy[q + 3] = vy1 * wx1;
            dBilDx[q] = -wy0 * vx0;
            dBilDx[q + 1] = wy0 * vx1;
            dBilDx[q + 2] = -wy1 * vx0;
            dBilDx[q + 3] = wy1 * vx1;
            const yc0 = Math.min(Math.max(y0, 0), h - 1);
            const yc1 = Math.min(Math.max(y0 + 1, 0), h - 1);
            const xc0 = Math.min(Math.max(x0, 0), w - 1);
            const xc1 = Math.min(Math.max(x0 + 1, 0), w - 1);
            const base = bb * h * w * g + gg;
            rows[q] = base + (yc0 * w + xc0) * g;
            rows[q + 1] = base + (yc0 * w + xc1) * g;
            rows[q + 2] = base + (yc1 * w + xc0) * g;
            rows[q + 3] = base + (yc1 * w + xc1) * g;
          }
        }
      }
    }
  }
  return { rows, wts, bil, dBilDy, dBilDx, m };
}

/** dots [R*4] = <corner row, dCols row> -> dMask (mask layout) and dOffset (offset layout). */
function offsetMaskGrads(geo: Geometry, pl: Plan, dots: Float32Array): { dMask: Float32Array; dOff: Float32Array } {
  const { b, kh, kw, ho, wo, g } = geo;
  const k = kh * kw;
  const n = b * ho * wo * k * g;
  const dMask = new Float32Array(n);
  const dOff = new Float32Array(2 * n);
  for (let r = 0; r < n; r++) {
    // r = (pix*K + t)*G + gg
    const gg = r % g;
    const t = Math.floor(r / g) % k;
    const pix = Math.floor(r / (g * k));
    const q = 4 * r;
    let dm = 0;
    let dy = 0;
    let dx = 0;
    for (let c = 0; c < 4; c++) {
      const d = dots[q + c]!;
      dm += pl.bil[q + c]! * d;
      dy += pl.dBilDy[q + c]! * d;
      dx += pl.dBilDx[q + c]! * d;
    }
    dMask[pix * g * k + gg * k + t] = dm;
    const o = pix * 2 * g * k + gg * 2 * k + 2 * t;
    dOff[o] = pl.m[r]! * dy;
    dOff[o + 1] = pl.m[r]! * dx;
  }
  return { dMask, dOff };
}

/** Corner rows of x: xRows [B*H*W*G, Cg] -> [R*4, Cg]. SparseSegmentSum with one row per segment is a row copy. */
function gatherRows(xRows: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const seg = new Int32Array(rows.length);
  for (let i = 0; i < seg.length; i++) seg[i] = i;
  return tf.sparse.sparseSegmentSum(xRows, tf.tensor1d(rows, 'int32'), tf.tensor1d(seg, 'int32')) as tf.Tensor2D;
}

/** im2col columns [P, K*Cin] = per point, sum over its 4 corners of wts * corner row. */
function columns(geo: Geometry, corners: tf.Tensor2D, wts: Float32Array): tf.Tensor2D {
  const { b, ho, wo, kh, kw, cin } = geo;
  const n4 = wts.length;
  const weighted = tf.mul(corners, tf.tensor2d(wts, [n4, 1]));
  // Sum each run of 4 rows (a segment sum over contiguous segments). Row order (k, g, cg) = k*Cin + c.
  const ids = new Int32Array(n4);
  const seg = new Int32Array(n4);
  for (let i = 0; i < n4; i++) {
    ids[i] = i;
    seg[i] = i >> 2;
  }
  const s = tf.sparse.sparseSegmentSum(weighted, tf.tensor1d(ids, 'int32'), tf.tensor1d(seg, 'int32'));
  return tf.reshape(s, [b * ho * wo, kh * kw * cin]);
}

/**
 * Modulated deformable conv (DCNv2), torchvision.ops.deform_conv2d semantics, NHWC.
 * x [B,H,W,Cin]; offset [B,Ho,Wo,2*G*kh*kw] (channel g*2*K + 2*k = dy, +1 = dx, k = i*kw + j);
 * mask [B,Ho,Wo,G*kh*kw] (no sigmoid inside); weight [kh,kw,Cin,Cout]; bias [Cout] or null -> [B,Ho,Wo,Cout]
 */
export function deformConv2d(
  x: tf.Tensor4D,
  offset: tf.Tensor4D,
  mask: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias: tf.Tensor1D | null,
  opts: DeformConvOptions = {},
): tf.Tensor4D {
  const geo = geometry(x, offset, mask, weight, bias, opts);
  const { b, h, w, cin, cout, kh, kw, ho, wo, g } = geo;
  const kc = kh * kw * cin;
  const cg = cin / g;
  const xRowsOf = (xt: tf.Tensor) => tf.reshape(xt, [b * h * w * g, cg]) as tf.Tensor2D;

  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xt, off, msk, wt, bs] = args as tf.Tensor[];
    const pl = makePlan(geo, off!.dataSync() as Float32Array, msk!.dataSync() as Float32Array);
    const cols = columns(geo, gatherRows(xRowsOf(xt!), pl.rows), pl.wts);
    const w2 = tf.reshape(wt!, [kc, cout]) as tf.Tensor2D;
    const out2 = bs ? tf.fused.matMul({ a: cols, b: w2, bias: bs }) : tf.matMul(cols, w2);
    save([xt!, wt!, cols]);
    return {
      value: tf.reshape(out2, [b, ho, wo, cout]) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sx, swt, scols] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D];
        const grads = backward(geo, pl, dy, xRowsOf(sx), swt, scols);
        return bs ? grads : grads.slice(0, 4);
      },
    };
  });
  return (bias ? op(x, offset, mask, weight, bias) : op(x, offset, mask, weight)) as tf.Tensor4D;
}

/** Gradients [dx, dOffset, dMask, dWeight, dBias] of deformConv2d for the output gradient dy [B,Ho,Wo,Cout]. */
function backward(geo: Geometry, pl: Plan, dy: tf.Tensor4D, xRows: tf.Tensor2D, weight: tf.Tensor4D, cols: tf.Tensor2D): tf.Tensor[] {
  const { b, h, w, cin, cout, kh, kw, ho, wo, g } = geo;
  const p = b * ho * wo;
  const kc = kh * kw * cin;
  const cg = cin / g;
  const n = p * kh * kw * g;
  const dOut = tf.reshape(dy, [p, cout]);
  // [Cout, P] through a 4-D transpose (wasm's fast path); dW^T = dOut^T cols avoids a transposed matmul.
  const dOutT = tf.reshape(tf.transpose(dy, [3, 0, 1, 2]), [cout, p]);
  const dW = tf.reshape(tf.transpose(tf.matMul(dOutT, cols)), [kh, kw, cin, cout]);
  const dBias = tf.sum(dOutT, 1);
  const dCols = tf.reshape(tf.matMul(dOut, tf.transpose(tf.reshape(weight, [kc, cout]))), [n, 1, cg]);
  // dx: corner c of point r receives wts[r,c] * dCols[r]; ScatterNd adds rows that share an index.
  const updates = tf.reshape(tf.mul(tf.tensor3d(pl.wts, [n, 4, 1]), dCols), [n * 4, cg]);
  const rows = tf.tensor2d(pl.rows, [n * 4, 1], 'int32');
  const dx = tf.reshape(tf.scatterND(rows, updates, [b * h * w * g, cg]), [b, h, w, cin]);
  // dots[r, c] = <corner row, dCols[r]>, then offset/mask gradients in JS.
  const corners = tf.reshape(gatherRows(xRows, pl.rows), [n, 4, cg]);
  const dots = tf.sum(tf.mul(corners, dCols), -1).dataSync() as Float32Array;
  const { dMask, dOff } = offsetMaskGrads(geo, pl, dots);
  const dOffset = tf.tensor4d(dOff, [b, ho, wo, 2 * g * kh * kw]);
  const dMaskT = tf.tensor4d(dMask, [b, ho, wo, g * kh * kw]);
  return [dx, dOffset, dMaskT, dW, dBias];
}
