// Helpers for kernels built from other kernels with ordinary tf ops. Inside a kernel the tape is off
// (engine kernelDepth > 0), so the ops below record nothing; tidy frees every intermediate.
import * as tf from '@tensorflow/tfjs';

/**
 * Runs `body` on the kernel's inputs as Tensors and returns its result as the kernel output.
 * Inputs that arrive as bare TensorInfos get a temporary Tensor wrapper (shares the data, freed after).
 */
export function runComposed(inputs: tf.TensorInfo[], body: (ts: tf.Tensor[]) => tf.Tensor): tf.Tensor {
  const wrappers: tf.Tensor[] = [];
  const ts = inputs.map((info) => {
    if (info instanceof tf.Tensor) return info;
    const t = wrapTensorInfo(info);
    wrappers.push(t);
    return t;
  });
  try {
    return tf.tidy(() => {
      const out = body(ts);
      // A kernel must return a fresh tensor, never one of its inputs.
      return ts.includes(out) ? out.clone() : out;
    });
  } finally {
    for (const t of wrappers) t.dispose();
  }
}

/** A new Tensor sharing `info`'s data (reference-counted: disposing it leaves `info` intact). */
export function wrapTensorInfo(info: tf.TensorInfo): tf.Tensor {
  const t = tf.engine().makeTensorFromTensorInfo(info);
  tf.backend().incRef(info.dataId);
  return t;
}

/** [h, w] from a number or a pair (tfjs attrs allow both). */
export function pair(v: number | [number, number] | undefined, dflt = 1): [number, number] {
  if (v == null) return [dflt, dflt];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/**
 * Pads (positive) or crops (negative) each axis at its front and back: `edges[a] = [front, back]`.
 * Padding is with zeros.
 */
export function padOrCrop<T extends tf.Tensor>(x: T, edges: Array<[number, number]>): T {
  const begin = edges.map(([f]) => Math.max(0, -f));
  const size = edges.map(([f, b], a) => x.shape[a]! - Math.max(0, -f) - Math.max(0, -b));
  if (size.some((s) => s <= 0)) throw new Error(`padOrCrop: crops ${JSON.stringify(edges)} empty shape ${x.shape}`);
  let y: tf.Tensor = edges.some(([f, b]) => f < 0 || b < 0) ? tf.slice(x, begin, size) : x;
  if (edges.some(([f, b]) => f > 0 || b > 0)) {
    y = tf.pad(y, edges.map(([f, b]) => [Math.max(0, f), Math.max(0, b)] as [number, number]));
  }
  return y as T;
}
