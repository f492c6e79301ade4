// Shared set-up for the text-encoder tests: the open_clip reference fixture (tests/fixtures/golden README §4).
import path from 'node:path';
import { tf } from '../../helpers/tf.ts';
import { FIXTURES, loadFixtureJson, type JsonTensor } from '../../helpers/golden.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { loadTextWeights, type LoadTextWeightsOptions } from '../../../src/model/text/loadTextWeights.ts';
import { TextEncoder } from '../../../src/model/text/textEncoder.ts';
import type { TextEncoderConfig } from '../../../src/model/text/config.ts';

export interface ClipTextFixture {
  tokenizer: { cases: { text: string }[] };
  hf_config_equivalent: Record<string, unknown>;
  input_ids: JsonTensor;
  embeddings: JsonTensor;
  after_block_0: JsonTensor;
  after_block_1: JsonTensor;
  hidden_after_ln_final: JsonTensor;
  text_features: JsonTensor;
}

export const fixture = (): ClipTextFixture => loadFixtureJson('golden/clip_text.json');
export const OPENCLIP_FILE = path.join(FIXTURES, 'golden', 'clip_text_openclip.safetensors');
export const HF_FILE = path.join(FIXTURES, 'golden', 'clip_text_hf.safetensors');
export const TOL = { rtol: 1e-4, atol: 2e-5 };

/** The fixture's ids [19, 16] as an int32 tensor (caller disposes). */
export const fixtureIds = (): tf.Tensor2D => {
  const t = fixture().input_ids;
  return tf.tensor2d(Int32Array.from(t.data), t.shape as [number, number], 'int32');
};

/** Rows [from, to) of a [B, ...] fixture tensor, flat. */
export function rows(t: JsonTensor, from: number, to: number): Float32Array {
  const per = t.shape.slice(1).reduce((a, d) => a * d, 1);
  return new Float32Array(t.data.slice(from * per, to * per));
}

export interface Loaded { store: ParamStore; enc: TextEncoder; cfg: TextEncoderConfig }

/** Loads a fixture file into a fresh store's 'text' scope. Dispose with `done(loaded)`. */
export function loadEncoder(file: string, opts: LoadTextWeightsOptions): Loaded {
  const store = ParamStore.create();
  const scope = store.scope('text');
  const cfg = loadTextWeights(scope, file, opts);
  return { store, enc: new TextEncoder(scope, cfg), cfg };
}

export function done(l: Loaded): void {
  l.enc.dispose();
  l.store.dispose();
}
