// Per-parameter optimizer settings, decided from the parameter's dotted name and rank.
//
// Learning-rate multiplier: the first matching prefix rule wins (default: `text.` x0.1, the paper keeps the
// FILIP-initialised text encoder close to its pre-trained weights).
// No weight decay (the usual Swin/CLIP/DETR practice) for:
//   - tensors of rank <= 1: biases, norm scales/shifts (BatchNorm/LayerNorm/GroupNorm), the logit scale, temperatures;
//   - names containing `embedding` / `embed` (token/positional/class embeddings, Swin absolute_pos_embed),
//     `relative_position_bias_table`, `logit_scale`, or a path segment containing `norm` / `bn` / `ln_`.
// Everything else (conv / linear weight matrices) decays.

export interface LrPrefixRule { prefix: string; lrMult: number }
export interface ParamGroup { lrMult: number; decay: boolean }

export const DEFAULT_LR_RULES = (textLrMult: number): LrPrefixRule[] => [{ prefix: 'text.', lrMult: textLrMult }];

/** The training config's rules: its own `lrRules` first, then the default `text.` x textLrMult. */
export function lrRulesFor(t: { lrRules?: readonly LrPrefixRule[]; textLrMult: number }): LrPrefixRule[] {
  return [...(t.lrRules ?? []), ...DEFAULT_LR_RULES(t.textLrMult)];
}

const NO_DECAY_SUBSTRINGS = ['embedding', 'embed', 'relative_position_bias_table', 'logit_scale'];
const NORM_SEGMENT = /(^|\.)([a-z_]*norm[a-z_0-9]*|bn\d*|ln_\w*)(\.|$)/i;

/** Whether weight decay applies to the parameter `name` of shape `shape`. */
export function decays(name: string, shape: readonly number[]): boolean {
  if (shape.length <= 1) return false;
  const lower = name.toLowerCase();
  if (NO_DECAY_SUBSTRINGS.some((s) => lower.includes(s))) return false;
  return !NORM_SEGMENT.test(name);
}

export function lrMultFor(name: string, rules: readonly LrPrefixRule[]): number {
  for (const r of rules) if (name.startsWith(r.prefix)) return r.lrMult;
  return 1;
}

export function paramGroupFor(name: string, shape: readonly number[], rules: readonly LrPrefixRule[]): ParamGroup {
  return { lrMult: lrMultFor(name, rules), decay: decays(name, shape) };
}
