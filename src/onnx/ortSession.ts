// onnxruntime-node sessions (CPU provider) for the two exported graphs, and typed runs of each.
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { UserError } from '../errors.ts';
import { IMAGE_INPUT, IMAGE_OUTPUTS } from './exportImage.ts';
import { TEXT_INPUT, TEXT_OUTPUT } from './exportText.ts';

/** The onnxruntime-node version in use. */
export const ORT_VERSION: string = ort.env.versions?.node ?? 'unknown';

/** intra-op threads: the given count, else every core. */
export const resolveOrtThreads = (threads?: number): number => {
  if (threads === undefined) return os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new UserError(`onnx threads must be a positive integer, got ${threads}`);
  return threads;
};

/** A CPU session over graph bytes; a graph onnxruntime rejects is a UserError naming `where`. */
export async function openSession(bytes: Uint8Array, where: string, threads?: number): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'], intraOpNumThreads: resolveOrtThreads(threads), interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${where}: onnxruntime ${ORT_VERSION} cannot load this graph (${(e as Error).message.split('\n')[0]})`);
  }
}

export interface ImageGraphOutputs {
  boxes: Float32Array;       // [B, K, 4] xyxy input pixels
  centerness: Float32Array;  // [B, K] logits
  embeddings: Float32Array;  // [B, K, D] unit length
  k: number;
}

/** images NHWC [B, H, W, 3] (normalised) -> NCHW, as image.onnx takes them. */
export function nhwcToNchw(x: Float32Array, b: number, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  const plane = h * w;
  for (let n = 0; n < b; n++) {
    const src = n * plane * 3;
    for (let p = 0; p < plane; p++) {
      out[src + p] = x[src + p * 3]!;
      out[src + plane + p] = x[src + p * 3 + 1]!;
      out[src + 2 * plane + p] = x[src + p * 3 + 2]!;
    }
  }
  return out;
}

/** Runs image.onnx on NHWC pixels [B, H, W, 3]. */
export async function runImageGraph(sess: ort.InferenceSession, nhwc: Float32Array, b: number, h: number, w: number): Promise<ImageGraphOutputs> {
  const out = await sess.run({ [IMAGE_INPUT]: new ort.Tensor('float32', nhwcToNchw(nhwc, b, h, w), [b, 3, h, w]) });
  const boxes = out[IMAGE_OUTPUTS.boxes]!;
  return {
    boxes: boxes.data as Float32Array,
    centerness: out[IMAGE_OUTPUTS.centerness]!.data as Float32Array,
    embeddings: out[IMAGE_OUTPUTS.embeddings]!.data as Float32Array,
    k: Number(boxes.dims[1]),
  };
}

/** Runs text.onnx on token ids [C, L] (tokenize()) -> unit-length embeddings [C, D]. */
export async function runTextGraph(sess: ort.InferenceSession, ids: Int32Array, c: number, l: number): Promise<Float32Array> {
  const out = await sess.run({ [TEXT_INPUT]: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [c, l]) });
  return out[TEXT_OUTPUT]!.data as Float32Array;
}
