// Loads a CLIP text tower from safetensors in either naming scheme:
//  - open_clip / OpenAI CLIP: `token_embedding.weight`, `transformer.resblocks.N.attn.in_proj_weight`, ...,
//    `text_projection` [width, D] (a full CLIP checkpoint works: visual.* keys are ignored);
//  - Hugging Face CLIPTextModelWithProjection / CLIPModel: `text_model.…`, q/k/v split, `text_projection.weight` [D, width].
// A common key prefix (e.g. `text.` from our own checkpoints, `module.`) is detected. Sizes come from the shapes;
// heads / activation / LayerNorm eps from options, a foreign config, or CLIP defaults.
import { readSafetensors, readSafetensorsHeader, type StHeader } from '../../io/safetensors.ts';
import { parseStrict } from '../../config/strict.ts';
import { UserError } from '../../errors.ts';
import type { ParamStore } from '../params.ts';
import { TextEncoderConfigSchema, type TextActivation, type TextEncoderConfig } from './config.ts';
import { readForeignTextConfig, type ForeignTextConfig } from './hfConfig.ts';
import { blockPrefix, ensureTextParams } from './textParams.ts';

export interface LoadTextWeightsOptions {
  /** HF config.json (CLIPTextConfig, or CLIPConfig with text_config) or open_clip model config: path or parsed object. */
  config?: string | Record<string, unknown>;
  heads?: number;
  activation?: TextActivation;
  /** Tokens per concept; at most the checkpoint's positions (extra positional rows are dropped). Default: all. */
  contextLength?: number;
  layerNormEps?: number;
}

type Scheme = 'openclip' | 'hf';
interface Source { names: string[]; transpose?: boolean } // several names = concatenated rows (HF q, k, v)
type Tensor = { shape: number[]; data: Float32Array };

function detect(h: StHeader, file: string): { scheme: Scheme; prefix: string } {
  const find = (re: RegExp): string[] => [...h.entries.keys()].flatMap((n) => re.exec(n)?.[1] ?? []);
  const hf = find(/^(.*)text_model\.embeddings\.token_embedding\.weight$/);
  const oc = find(/^(.*)token_embedding\.weight$/);
  if (hf.length === 1) return { scheme: 'hf', prefix: hf[0]! };
  if (hf.length === 0 && oc.length === 1) return { scheme: 'openclip', prefix: oc[0]! };
  if (hf.length + oc.length === 0) {
    throw new UserError(`${file}: no CLIP text-encoder tensors (expected 'token_embedding.weight' or 'text_model.embeddings.token_embedding.weight')`);
  }
  throw new UserError(`${file}: several text encoders in one file (token_embedding.weight under prefixes ${[...hf, ...oc].map((p) => `'${p}'`).join(', ')})`);
}

function countLayers(h: StHeader, re: RegExp, file: string): number {
  const seen = new Set<number>();
  for (const n of h.entries.keys()) { const m = re.exec(n); if (m) seen.add(Number(m[1])); }
  for (let i = 0; i < seen.size; i++) if (!seen.has(i)) throw new UserError(`${file}: text transformer layer ${i} is missing`);
  if (!seen.size) throw new UserError(`${file}: no text transformer layers`);
  return seen.size;
}

/** Our parameter name -> where its value comes from in the file. */
function sources(scheme: Scheme, p: string, layers: number, h: StHeader): Map<string, Source> {
  const m = new Map<string, Source>();
  const one = (ours: string, theirs: string, transpose = false): void => { m.set(ours, { names: [p + theirs], transpose }); };
  if (scheme === 'openclip') {
    for (const n of ['token_embedding.weight', 'positional_embedding', 'ln_final.weight', 'ln_final.bias']) one(n, n);
    for (let i = 0; i < layers; i++) {
      for (const n of ['ln_1.weight', 'ln_1.bias', 'attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight', 'attn.out_proj.bias',
        'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias']) one(blockPrefix(i) + n, blockPrefix(i) + n);
    }
    // Newer open_clip may store the projection as a bias-free Linear.
    if (!h.entries.has(`${p}text_projection`) && h.entries.has(`${p}text_projection.weight`)) one('text_projection', 'text_projection.weight', true);
    else one('text_projection', 'text_projection');
    return m;
  }
  one('token_embedding.weight', 'text_model.embeddings.token_embedding.weight');
  one('positional_embedding', 'text_model.embeddings.position_embedding.weight');
  for (let i = 0; i < layers; i++) {
    const ours = blockPrefix(i);
    const l = `text_model.encoder.layers.${i}.`;
    const map: [string, string][] = [['ln_1', 'layer_norm1'], ['ln_2', 'layer_norm2'], ['attn.out_proj', 'self_attn.out_proj'],
      ['mlp.c_fc', 'mlp.fc1'], ['mlp.c_proj', 'mlp.fc2']];
    for (const [o, t] of map) for (const s of ['weight', 'bias']) one(`${ours}${o}.${s}`, `${l}${t}.${s}`);
    for (const s of ['weight', 'bias']) {
      m.set(`${ours}attn.in_proj_${s}`, { names: ['q_proj', 'k_proj', 'v_proj'].map((q) => `${p}${l}self_attn.${q}.${s}`) });
    }
  }
  one('ln_final.weight', 'text_model.final_layer_norm.weight');
  one('ln_final.bias', 'text_model.final_layer_norm.bias');
  one('text_projection', 'text_projection.weight', true);
  return m;
}

function assemble(src: Source, read: Map<string, { shape: number[]; data: Float32Array | Int32Array }>, file: string): Tensor {
  const parts = src.names.map((n) => {
    const t = read.get(n)!;
    if (!(t.data instanceof Float32Array)) throw new UserError(`${file}: tensor '${n}' is not floating point`);
    return { shape: t.shape, data: t.data };
  });
  if (parts.length > 1) { // row-wise concat
    const tail = parts[0]!.shape.slice(1);
    if (parts.some((t) => t.shape.slice(1).join() !== tail.join())) throw new UserError(`${file}: '${src.names.join("', '")}' have mismatched shapes`);
    const data = new Float32Array(parts.reduce((a, t) => a + t.data.length, 0));
    let off = 0;
    for (const t of parts) { data.set(t.data, off); off += t.data.length; }
    return { shape: [parts.reduce((a, t) => a + t.shape[0]!, 0), ...tail], data };
  }
  const t = parts[0]!;
  if (!src.transpose) return t;
  if (t.shape.length !== 2) throw new UserError(`${file}: '${src.names[0]}' should be 2-D, has shape [${t.shape}]`);
  const [r, c] = t.shape as [number, number];
  const data = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data };
}

function deriveConfig(values: Map<string, Tensor>, layers: number, foreign: ForeignTextConfig, opts: LoadTextWeightsOptions,
  file: string, configWhere: string): TextEncoderConfig {
  const dim = (name: string, axis: number, what: string): number => {
    const s = values.get(name)!.shape;
    if (s.length !== 2) throw new UserError(`${file}: ${what} tensor '${name}' should be 2-D, has shape [${s}]`);
    return s[axis]!;
  };
  const sizes = {
    vocabSize: dim('token_embedding.weight', 0, 'token embedding'), width: dim('token_embedding.weight', 1, 'token embedding'),
    positions: dim('positional_embedding', 0, 'positional'), layers, mlpWidth: dim(`${blockPrefix(0)}mlp.c_fc.weight`, 0, 'MLP'),
    outputDim: dim('text_projection', 1, 'projection'),
  };
  for (const [k, v] of Object.entries(sizes)) {
    const said = foreign[k as keyof ForeignTextConfig];
    if (said !== undefined && said !== v) throw new UserError(`${configWhere}: ${k} ${said} does not match the weights in ${file} (${v})`);
  }
  const W = sizes.width;
  const heads = opts.heads ?? foreign.heads ?? (W % 64 === 0 ? W / 64 : undefined); // CLIP convention: 64-wide heads
  if (heads === undefined) throw new UserError(`${file}: cannot infer the number of attention heads for width ${W}: give heads (--heads) or a config`);
  const contextLength = opts.contextLength ?? sizes.positions;
  if (contextLength > sizes.positions) throw new UserError(`${file}: contextLength ${contextLength} exceeds the ${sizes.positions} positions in the weights`);
  const cfg: TextEncoderConfig = {
    vocabSize: sizes.vocabSize, contextLength, width: W, heads, layers, outputDim: sizes.outputDim,
    activation: opts.activation ?? foreign.activation ?? 'quickgelu',
    ...(sizes.mlpWidth !== 4 * W ? { mlpWidth: sizes.mlpWidth } : {}),
    ...((opts.layerNormEps ?? foreign.layerNormEps) !== undefined ? { layerNormEps: opts.layerNormEps ?? foreign.layerNormEps } : {}),
  };
  try { return parseStrict(TextEncoderConfigSchema, cfg, file); } catch (e) { throw new UserError((e as Error).message); }
}

/**
 * Reads a CLIP text tower from `file` into `store` (creating the parameters, or assigning existing ones) and
 * returns its config; then `new TextEncoder(store, cfg)` uses those parameters. Bad files -> UserError (one line).
 */
export function loadTextWeights(store: ParamStore, file: string, opts: LoadTextWeightsOptions = {}): TextEncoderConfig {
  let header: StHeader;
  try { header = readSafetensorsHeader(file); } catch (e) { throw new UserError((e as Error).message); }
  const { scheme, prefix } = detect(header, file);
  const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const layerRe = scheme === 'hf' ? new RegExp(`^${esc}text_model\\.encoder\\.layers\\.(\\d+)\\.`) : new RegExp(`^${esc}transformer\\.resblocks\\.(\\d+)\\.`);
  const layers = countLayers(header, layerRe, file);
  const src = sources(scheme, prefix, layers, header);
  const needed = [...src.values()].flatMap((s) => s.names);
  const missing = needed.filter((n) => !header.entries.has(n));
  if (missing.length) throw new UserError(`${file}: missing tensor '${missing[0]}' (${missing.length} missing, ${scheme === 'hf' ? 'Hugging Face' : 'open_clip'} naming)`);
  if (scheme === 'openclip' && header.entries.has(`${prefix}text_projection.bias`)) throw new UserError(`${file}: a text_projection with bias is not supported`);
  let read: Map<string, { shape: number[]; data: Float32Array | Int32Array }>;
  try { read = readSafetensors(file, needed).tensors; } catch (e) { throw new UserError((e as Error).message); }
  const values = new Map<string, Tensor>();
  for (const [ours, s] of src) values.set(ours, assemble(s, read, file));

  const configWhere = typeof opts.config === 'string' ? opts.config : 'config';
  const foreign = opts.config ? readForeignTextConfig(opts.config, configWhere) : {};
  const cfg = deriveConfig(values, layers, foreign, opts, file, configWhere);
  const pos = values.get('positional_embedding')!;
  if (cfg.contextLength < pos.shape[0]!) {
    values.set('positional_embedding', { shape: [cfg.contextLength, cfg.width], data: pos.data.slice(0, cfg.contextLength * cfg.width) });
  }
  try { ensureTextParams(store, cfg, values, undefined, file); } catch (e) { throw new UserError((e as Error).message); }
  return cfg;
}
