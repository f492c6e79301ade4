// Text-tower sizes from a foreign model config: Hugging Face CLIPTextConfig / CLIPConfig (flat, or nested under
// `text_config`), or an open_clip model config (`text_cfg` + `embed_dim`). Unknown keys are ignored: these files
// carry many fields we do not use.
import fs from 'node:fs';
import { z } from 'zod';
import { parseStrict } from '../../config/strict.ts';
import { UserError } from '../../errors.ts';
import type { TextActivation } from './config.ts';

/** What a config says about the text tower; absent fields are left to the weights' shapes or defaults. */
export interface ForeignTextConfig {
  vocabSize?: number;
  width?: number;
  heads?: number;
  layers?: number;
  mlpWidth?: number;
  outputDim?: number;
  positions?: number;
  activation?: TextActivation;
  layerNormEps?: number;
}

const int = z.number().int().positive().optional();
const HfText = z.looseObject({
  vocab_size: int, hidden_size: int, num_attention_heads: int, num_hidden_layers: int, intermediate_size: int,
  projection_dim: int, max_position_embeddings: int, hidden_act: z.string().optional(), layer_norm_eps: z.number().positive().optional(),
});
const OpenClipText = z.looseObject({
  vocab_size: int, width: int, heads: int, layers: int, mlp_ratio: z.number().positive().optional(), context_length: int,
});
const Root = z.looseObject({
  text_config: z.record(z.string(), z.unknown()).optional(), text_cfg: z.record(z.string(), z.unknown()).optional(),
  projection_dim: int, embed_dim: int, quick_gelu: z.boolean().optional(),
});

function hfActivation(act: string | undefined, where: string): TextActivation | undefined {
  if (act === undefined) return undefined;
  if (act === 'quick_gelu') return 'quickgelu';
  if (act === 'gelu') return 'gelu';
  throw new UserError(`${where}: hidden_act '${act}' is not supported (expected quick_gelu or gelu)`);
}

const drop = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Parses an HF or open_clip config (file path or parsed object). Bad input -> UserError naming `where`. */
export function readForeignTextConfig(src: string | Record<string, unknown>, where = typeof src === 'string' ? src : 'config'): ForeignTextConfig {
  let raw: unknown = src;
  if (typeof src === 'string') {
    let text: string;
    try { text = fs.readFileSync(src, 'utf8'); } catch (e) { throw new UserError(`${src}: cannot read config (${(e as NodeJS.ErrnoException).code})`); }
    try { raw = JSON.parse(text); } catch { throw new UserError(`${src}: config is not valid JSON`); }
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${where}: config must be a JSON object`);
  const parse = <S extends z.ZodType>(schema: S, v: unknown, at: string): z.infer<S> => {
    try { return parseStrict(schema, v, at); } catch (e) { throw new UserError((e as Error).message); }
  };
  const root = parse(Root, raw, where);
  if (root.text_cfg) {
    const t = parse(OpenClipText, root.text_cfg, `${where}: text_cfg`);
    const mlp = t.width && t.mlp_ratio ? Math.round(t.width * t.mlp_ratio) : undefined;
    if (mlp !== undefined && !(Number.isSafeInteger(mlp) && mlp >= 1)) {
      throw new UserError(`${where}: text_cfg: width ${t.width} x mlp_ratio ${t.mlp_ratio} is not a usable MLP width`);
    }
    return drop({
      vocabSize: t.vocab_size, width: t.width, heads: t.heads, layers: t.layers, positions: t.context_length,
      mlpWidth: mlp, outputDim: root.embed_dim,
      activation: root.quick_gelu ? 'quickgelu' : 'gelu', // open_clip's default act_layer is nn.GELU
    });
  }
  const t = parse(HfText, root.text_config ?? raw, root.text_config ? `${where}: text_config` : where);
  if (!root.text_config && t.hidden_size === undefined && t.num_attention_heads === undefined && t.num_hidden_layers === undefined) {
    throw new UserError(`${where}: not a CLIP text config (no hidden_size / num_attention_heads / num_hidden_layers, no text_config or text_cfg)`);
  }
  return drop({
    vocabSize: t.vocab_size, width: t.hidden_size, heads: t.num_attention_heads, layers: t.num_hidden_layers,
    mlpWidth: t.intermediate_size, outputDim: t.projection_dim ?? root.projection_dim, positions: t.max_position_embeddings,
    activation: hfActivation(t.hidden_act, where), layerNormEps: t.layer_norm_eps,
  });
}
