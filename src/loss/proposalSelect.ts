// Proposal selection for image-text pairs (DetCLIPv2 §3): objectness = a region's maximum similarity to all
// concepts of the (local) batch, then NMS, then the top-k survivors. CPU, outside the tape.
import * as tf from '@tensorflow/tfjs';
import { nms } from '../ops/nms.ts';
import { regionPhraseSimilarity } from './imageTextLoss.ts';

export interface ProposalOptions {
  /** Proposals kept per image (paper: 100; ablation 25/50/200). */
  k?: number;
  /** NMS IoU threshold (not reported in the paper; 0.5 is this project's choice). */
  nmsThreshold?: number;
}

export const PROPOSAL_DEFAULTS: Required<ProposalOptions> = { k: 100, nmsThreshold: 0.5 };

/**
 * Objectness of every region: max cosine to any concept of the batch. regionEmb [B, K, D], conceptEmb [M, D]
 * (both L2-normalised) -> [B, K]. (Monotone in the head's logits, so either may drive selection.)
 */
export function regionObjectness(regionEmb: tf.Tensor, conceptEmb: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.max(regionPhraseSimilarity(regionEmb, conceptEmb), -1) as tf.Tensor2D);
}

/**
 * scores [B*K], boxes [B*K*4] xyxy (flat, image-major) -> per image the kept anchor indices (in [0, K)),
 * by decreasing score: torchvision-semantics NMS over all K anchors, then the first k kept.
 */
export function selectProposalsArrays(
  scores: Float32Array,
  boxes: Float32Array,
  numImages: number,
  opts: ProposalOptions = {},
): Int32Array[] {
  const { k, nmsThreshold } = { ...PROPOSAL_DEFAULTS, ...opts };
  if (scores.length % numImages !== 0) throw new Error(`selectProposals: ${scores.length} scores for ${numImages} images`);
  const K = scores.length / numImages;
  if (boxes.length !== 4 * scores.length) throw new Error(`selectProposals: ${boxes.length} box values for ${scores.length} scores`);
  const out: Int32Array[] = [];
  for (let i = 0; i < numImages; i++) {
    const kept = nms(boxes.subarray(4 * i * K, 4 * (i + 1) * K), scores.subarray(i * K, (i + 1) * K), nmsThreshold);
    out.push(kept.slice(0, k));
  }
  return out;
}

/** Synchronous tensor form (dataSync): usable inside a taped function. similarityMax [B, K], boxes [B, K, 4]. */
export function selectProposalsSync(similarityMax: tf.Tensor, boxes: tf.Tensor, opts: ProposalOptions = {}): Int32Array[] {
  const B = similarityMax.shape[0]!;
  if (boxes.shape.join() !== [...similarityMax.shape, 4].join()) {
    throw new Error(`selectProposals: boxes ${JSON.stringify(boxes.shape)} vs scores ${JSON.stringify(similarityMax.shape)}`);
  }
  return selectProposalsArrays(similarityMax.dataSync() as Float32Array, boxes.dataSync() as Float32Array, B, opts);
}

/** Asynchronous tensor form. similarityMax [B, K], boxes [B, K, 4] -> per image Int32Array of kept anchors. */
export async function selectProposals(similarityMax: tf.Tensor, boxes: tf.Tensor, opts: ProposalOptions = {}): Promise<Int32Array[]> {
  const B = similarityMax.shape[0]!;
  if (boxes.shape.join() !== [...similarityMax.shape, 4].join()) {
    throw new Error(`selectProposals: boxes ${JSON.stringify(boxes.shape)} vs scores ${JSON.stringify(similarityMax.shape)}`);
  }
  const [s, b] = await Promise.all([similarityMax.data(), boxes.data()]);
  return selectProposalsArrays(s as Float32Array, b as Float32Array, B, opts);
}
