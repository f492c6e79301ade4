// onnxruntime-node sessions (CPU provider) for the two exported graphs, and typed runs of each (graphIo.ts).
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { UserError } from '../errors.ts';
import { nhwcToNchw, runImage, runText, type ImageGraphOutputs } from './graphIo.ts';

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

export type { ImageGraphOutputs } from './graphIo.ts';
export { nhwcToNchw };

/** Runs image.onnx on NHWC pixels [B, H, W, 3]. */
export function runImageGraph(sess: ort.InferenceSession, nhwc: Float32Array, b: number, h: number, w: number): Promise<ImageGraphOutputs> {
  return runImage({ session: sess, Tensor: ort.Tensor }, nhwc, b, h, w);
}

/** Runs text.onnx on token ids [C, L] (tokenize()) -> unit-length embeddings [C, D]. */
export function runTextGraph(sess: ort.InferenceSession, ids: Int32Array, c: number, l: number): Promise<Float32Array> {
  return runText({ session: sess, Tensor: ort.Tensor }, ids, c, l);
}
