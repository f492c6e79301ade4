// The exported graphs' input/output names and typed runs of each, over any onnxruntime session (onnxruntime-node
// in Node, onnxruntime-web in the browser: both re-export onnxruntime-common's InferenceSession and Tensor, so the
// types named through onnxruntime-node are the web package's too). Browser-safe: a type-only import, no node:*;
// the caller passes its package's Tensor class.
import type { InferenceSession, Tensor } from 'onnxruntime-node';

export const IMAGE_INPUT = 'image';
export const IMAGE_OUTPUTS = { boxes: 'boxes', centerness: 'centerness', embeddings: 'region_embeddings' } as const;
export const TEXT_INPUT = 'ids';
export const TEXT_OUTPUT = 'embeddings';

/** The Tensor constructor of an onnxruntime package (ort.Tensor), for the two input types the graphs take. */
export interface OrtTensorClass {
  new (type: 'float32', data: Float32Array, dims: readonly number[]): Tensor;
  new (type: 'int64', data: BigInt64Array, dims: readonly number[]): Tensor;
}

/** A session of one package and that package's Tensor class. */
export interface OrtGraph { session: InferenceSession; Tensor: OrtTensorClass }

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

const floats = (t: Tensor | undefined, name: string): Float32Array => {
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`onnx graph output '${name}' is missing or not float32`);
  return t.data;
};

/** Runs image.onnx on NHWC pixels [B, H, W, 3]. */
export async function runImage(g: OrtGraph, nhwc: Float32Array, b: number, h: number, w: number): Promise<ImageGraphOutputs> {
  const out = await g.session.run({ [IMAGE_INPUT]: new g.Tensor('float32', nhwcToNchw(nhwc, b, h, w), [b, 3, h, w]) });
  const boxes = out[IMAGE_OUTPUTS.boxes] as Tensor | undefined;
  return {
    boxes: floats(boxes, IMAGE_OUTPUTS.boxes),
    centerness: floats(out[IMAGE_OUTPUTS.centerness] as Tensor | undefined, IMAGE_OUTPUTS.centerness),
    embeddings: floats(out[IMAGE_OUTPUTS.embeddings] as Tensor | undefined, IMAGE_OUTPUTS.embeddings),
    k: Number(boxes!.dims[1]),
  };
}

/** Runs text.onnx on token ids [C, L] (tokenize()) -> unit-length embeddings [C, D]. */
export async function runText(g: OrtGraph, ids: Int32Array, c: number, l: number): Promise<Float32Array> {
  const out = await g.session.run({ [TEXT_INPUT]: new g.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [c, l]) });
  return floats(out[TEXT_OUTPUT] as Tensor | undefined, TEXT_OUTPUT);
}
