// The concept encoder: the CLIP text tower over a ParamStore scope, a differentiable forward for training,
// and a cached, chunked inference path (each concept is its own sentence, as in DetCLIPv2).
import * as tf from '@tensorflow/tfjs';
import { parseStrict } from '../../config/strict.ts';
import type { ParamStore } from '../params.ts';
import { CLIP_EOT, TextEncoderConfigSchema, type TextEncoderConfig } from './config.ts';
import { ensureTextParams, textParamSpecs, type NormalRng } from './textParams.ts';
import { textTransformer, type TextTrace } from './textTransformer.ts';
import { tokenize } from './tokenizer.ts';

/**
 * ids cut after the last column that holds some row's first EOT. The features (EOT row, or the mean up to EOT)
 * depend only on positions up to the first EOT (causal attention, per-position everything else), so this is
 * exact, and short concepts ('cat' is 3 tokens of 16) cost a fraction of the full context.
 */
function trimAfterEot(ids: tf.Tensor2D): tf.Tensor2D {
  const [n, L] = ids.shape;
  const v = ids.dataSync();
  let used = 1;
  for (let r = 0; r < n && used < L; r++) {
    let p = 0;
    while (p < L && v[r * L + p] !== CLIP_EOT) p++;
    used = Math.max(used, p + 1); // no EOT: p = L, the whole row
  }
  return used < L ? tf.slice(ids, [0, 0], [n, used]) : ids;
}

export interface EncodeTextOptions {
  /** Reuse / store per-concept embeddings (default true). */
  cache?: boolean;
  /** Concepts per forward pass (default 256). */
  chunkSize?: number;
}

export class TextEncoder {
  readonly cfg: TextEncoderConfig;
  private readonly params: tf.Variable[];
  private readonly cache = new Map<string, tf.Tensor1D>(); // concept -> [D]
  private cacheStamp: unknown[] | null = null; // parameter dataIds when the cache was filled

  /**
   * Uses the parameters already in `store` (e.g. from loadTextWeights) and creates the missing ones
   * (seeded with `rng` when given). Pass a scope such as `root.scope('text')`.
   */
  constructor(readonly store: ParamStore, cfg: TextEncoderConfig, rng?: NormalRng) {
    this.cfg = parseStrict(TextEncoderConfigSchema, cfg, 'text encoder config');
    ensureTextParams(store, this.cfg, undefined, rng);
    this.params = textParamSpecs(this.cfg).map((s) => store.get(s.name));
  }

  private readonly param = (name: string): tf.Tensor => this.store.get(name);

  /** ids [N, L] int32 -> [N, D] projected EOT features (not normalised). Differentiable w.r.t. every parameter. */
  forward(ids: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => textTransformer(this.param, this.cfg, trimAfterEot(ids)).features);
  }

  /** Like forward, with every intermediate (embeddings, per-block residuals, ln_final). Caller disposes. */
  trace(ids: tf.Tensor2D): TextTrace {
    return tf.tidy(() => textTransformer(this.param, this.cfg, ids) as unknown as tf.TensorContainer) as unknown as TextTrace;
  }

  /** Concepts -> [M, D] (inference path). Unique uncached concepts are tokenized and encoded in chunks. */
  encodeText(concepts: string[], opts: EncodeTextOptions = {}): tf.Tensor2D {
    const useCache = opts.cache ?? true;
    const chunkSize = opts.chunkSize ?? 256;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`encodeText: chunkSize must be a positive integer, got ${chunkSize}`);
    if (concepts.length === 0) return tf.zeros([0, this.cfg.outputDim]);
    if (useCache) this.dropStaleCache();
    const fresh = new Map<string, tf.Tensor1D>();
    const todo = [...new Set(concepts)].filter((c) => !(useCache && this.cache.has(c)));
    for (let s = 0; s < todo.length; s += chunkSize) {
      const chunk = todo.slice(s, s + chunkSize);
      const rows = tf.tidy(() => {
        const ids = tf.tensor2d(tokenize(chunk, this.cfg.contextLength), [chunk.length, this.cfg.contextLength], 'int32');
        return tf.unstack(this.forward(ids)) as tf.Tensor1D[];
      });
      chunk.forEach((c, i) => (useCache ? this.cache : fresh).set(c, rows[i]!));
    }
    if (useCache && todo.length && !this.cacheStamp) this.cacheStamp = this.params.map((v) => v.dataId);
    const out = tf.tidy(() => tf.stack(concepts.map((c) => (useCache ? this.cache : fresh).get(c)!)) as tf.Tensor2D);
    for (const t of fresh.values()) t.dispose();
    return out;
  }

  /** Number of cached concepts. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Disposes every cached embedding. */
  clearCache(): void {
    for (const t of this.cache.values()) t.dispose();
    this.cache.clear();
    this.cacheStamp = null;
  }

  /** Frees the cache; the parameters belong to the store (store.dispose()). */
  dispose(): void {
    this.clearCache();
  }

  // Assigning a variable (optimizer step, weight load) gives it a new dataId: then the cache is stale.
  private dropStaleCache(): void {
    if (this.cacheStamp && this.params.some((v, i) => v.dataId !== this.cacheStamp![i])) this.clearCache();
  }
}
