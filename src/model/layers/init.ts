// Parameter initialisers. They draw from a seeded generator so a model built twice with one seed is identical.
import * as tf from '@tensorflow/tfjs';

/** The part of src/ops/rng.ts's `Rng` that initialisers need (standard normal and uniform [0,1) draws). */
export interface InitRng {
  normal(): number;
  next(): number;
}

function product(shape: number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** N(0, std²), redrawn outside ±2·std when `truncate` (timm's trunc_normal_ with a=-2std, b=2std). */
export function normalInit(rng: InitRng, shape: number[], std: number, truncate = false): tf.Tensor {
  const data = new Float32Array(product(shape));
  for (let i = 0; i < data.length; i++) {
    let v = rng.normal();
    while (truncate && Math.abs(v) > 2) v = rng.normal();
    data[i] = v * std;
  }
  return tf.tensor(data, shape);
}

/** U(lo, hi). */
export function uniformInit(rng: InitRng, shape: number[], lo: number, hi: number): tf.Tensor {
  const data = new Float32Array(product(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rng.next();
  return tf.tensor(data, shape);
}

/** Kaiming normal for ReLU nets on an HWIO conv weight; fan_out = kh·kw·Cout as torchvision's ResNet uses. */
export function kaimingNormalHwio(rng: InitRng, shape: [number, number, number, number], mode: 'fan_in' | 'fan_out' = 'fan_out'): tf.Tensor {
  const [kh, kw, cin, cout] = shape;
  const fan = mode === 'fan_out' ? kh * kw * cout : kh * kw * cin;
  return normalInit(rng, shape, Math.sqrt(2 / fan));
}

/** Xavier/Glorot uniform on an HWIO conv weight: U(±√(6/(fan_in + fan_out))). */
export function xavierUniformHwio(rng: InitRng, shape: [number, number, number, number]): tf.Tensor {
  const [kh, kw, cin, cout] = shape;
  const a = Math.sqrt(6 / (kh * kw * (cin + cout)));
  return uniformInit(rng, shape, -a, a);
}

/** Bias that makes sigmoid(bias) = prob (focal-loss detectors' prior, e.g. -4.595 for 0.01). */
export function biasForPrior(prob: number): number {
  return -Math.log((1 - prob) / prob);
}

export const zerosInit = (shape: number[]): tf.Tensor => tf.zeros(shape);
export const onesInit = (shape: number[]): tf.Tensor => tf.ones(shape);
export const fillInit = (shape: number[], v: number): tf.Tensor => tf.fill(shape, v);
