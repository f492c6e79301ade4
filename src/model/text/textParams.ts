// The text tower's parameters: names (open_clip / OpenAI CLIP state-dict names), shapes, init, and creation in a
// ParamStore. Linear weights are torch-layout [out, in]; text_projection is [width, D] (used as pooled @ P).
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.ts';
import { mlpWidthOf, type TextEncoderConfig } from './config.ts';

/** Anything with a seeded standard normal (src/ops/rng.ts Rng fits). */
export interface NormalRng { normal(mean?: number, std?: number): number }

export type ParamInit = { std: number } | 'zeros' | 'ones';
export interface ParamSpec { name: string; shape: number[]; init: ParamInit }

export const blockPrefix = (i: number): string => `transformer.resblocks.${i}.`;

/** Every parameter of the tower, in open_clip state-dict order. Init follows open_clip TextTransformer.init_parameters. */
export function textParamSpecs(cfg: TextEncoderConfig): ParamSpec[] {
  const W = cfg.width;
  const M = mlpWidthOf(cfg);
  const attnStd = W ** -0.5;
  const projStd = W ** -0.5 * (2 * cfg.layers) ** -0.5;
  const fcStd = (2 * W) ** -0.5;
  const specs: ParamSpec[] = [
    { name: 'token_embedding.weight', shape: [cfg.vocabSize, W], init: { std: cfg.tokenInitStd ?? 0.02 } },
    { name: 'positional_embedding', shape: [cfg.contextLength, W], init: { std: 0.01 } },
  ];
  for (let i = 0; i < cfg.layers; i++) {
    const p = blockPrefix(i);
    specs.push(
      { name: `${p}ln_1.weight`, shape: [W], init: 'ones' },
      { name: `${p}ln_1.bias`, shape: [W], init: 'zeros' },
      { name: `${p}attn.in_proj_weight`, shape: [3 * W, W], init: { std: attnStd } },
      { name: `${p}attn.in_proj_bias`, shape: [3 * W], init: 'zeros' },
      { name: `${p}attn.out_proj.weight`, shape: [W, W], init: { std: projStd } },
      { name: `${p}attn.out_proj.bias`, shape: [W], init: 'zeros' },
      { name: `${p}ln_2.weight`, shape: [W], init: 'ones' },
      { name: `${p}ln_2.bias`, shape: [W], init: 'zeros' },
      { name: `${p}mlp.c_fc.weight`, shape: [M, W], init: { std: fcStd } },
      { name: `${p}mlp.c_fc.bias`, shape: [M], init: 'zeros' },
      { name: `${p}mlp.c_proj.weight`, shape: [W, M], init: { std: projStd } },
      { name: `${p}mlp.c_proj.bias`, shape: [W], init: 'zeros' },
    );
  }
  specs.push(
    { name: 'ln_final.weight', shape: [W], init: 'ones' },
    { name: 'ln_final.bias', shape: [W], init: 'zeros' },
    { name: 'text_projection', shape: [W, cfg.outputDim], init: { std: W ** -0.5 } },
  );
  return specs;
}

function initTensor(spec: ParamSpec, index: number, rng?: NormalRng): tf.Tensor {
  const { shape, init } = spec;
  if (init === 'zeros') return tf.zeros(shape);
  if (init === 'ones') return tf.ones(shape);
  if (!rng) return tf.randomNormal(shape, 0, init.std, 'float32', 4242 + index); // deterministic per parameter
  const data = new Float32Array(shape.reduce((a, d) => a * d, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, 1) * init.std;
  return tf.tensor(data, shape);
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Makes sure every tower parameter exists in `store` with the right shape. Values from `values` are assigned (to
 * existing variables) or used to create them; parameters with no value and no variable are initialised.
 * All shapes are checked before anything is created or assigned, so a failure leaves the store unchanged.
 */
export function ensureTextParams(store: ParamStore, cfg: TextEncoderConfig,
  values?: Map<string, { shape: number[]; data: Float32Array }>, rng?: NormalRng, where = 'text encoder'): void {
  const specs = textParamSpecs(cfg);
  for (const spec of specs) {
    const value = values?.get(spec.name);
    if (value && !sameShape(value.shape, spec.shape)) {
      throw new Error(`${where}: tensor '${spec.name}' has shape [${value.shape}] but the config needs [${spec.shape}]`);
    }
    if (store.has(spec.name) && !sameShape(store.get(spec.name).shape, spec.shape)) {
      throw new Error(`${where}: parameter '${store.prefix}${spec.name}' already exists with shape [${store.get(spec.name).shape}], config needs [${spec.shape}]`);
    }
  }
  specs.forEach((spec, index) => {
    const value = values?.get(spec.name);
    if (store.has(spec.name)) {
      if (value) tf.tidy(() => store.get(spec.name).assign(tf.tensor(value.data, spec.shape)));
    } else {
      store.add(spec.name, value ? tf.tensor(value.data, spec.shape) : initTensor(spec, index, rng));
    }
  });
}
