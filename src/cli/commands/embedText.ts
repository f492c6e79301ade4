// `detclip embed-text`: tokens and projected (unnormalised) text embeddings of phrases, as JSON on stdout.
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { startBackend, globalOpts, UserError } from '../userError.ts';
import { ParamStore } from '../../model/params.ts';
import { loadTextWeights } from '../../model/text/loadTextWeights.ts';
import { TextEncoder } from '../../model/text/textEncoder.ts';
import { tokenize } from '../../model/text/tokenizer.ts';
import type { TextActivation } from '../../model/text/config.ts';

interface EmbedTextOpts {
  weights: string;
  config?: string;
  text: string[];
  heads?: string;
  contextLength?: string;
  activation?: string;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

export function registerEmbedText(program: Command): void {
  program
    .command('embed-text')
    .description('encode phrases with a CLIP text tower (open_clip or Hugging Face safetensors); prints {tokens, embeddings} JSON')
    .requiredOption('--weights <file>', 'text-encoder weights (.safetensors, open_clip/OpenAI or HF CLIPTextModelWithProjection names)')
    .option('--config <file>', 'HF config.json (or open_clip model config) giving heads / activation / LayerNorm eps')
    .option('--text <phrase>', 'a phrase to encode (repeat for several)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--heads <n>', 'attention heads (default: from --config, else width/64)')
    .option('--context-length <n>', 'tokens per phrase (default: all positions in the weights; DetCLIPv2 uses 16)')
    .option('--activation <name>', 'quickgelu or gelu (default: from --config, else quickgelu)')
    .action(async (opts: EmbedTextOpts, cmd: Command) => {
      if (opts.text.length === 0) throw new UserError('give at least one --text');
      if (opts.activation !== undefined && opts.activation !== 'quickgelu' && opts.activation !== 'gelu') {
        throw new UserError(`--activation must be quickgelu or gelu, got '${opts.activation}'`);
      }
      const heads = positiveInt(opts.heads, '--heads');
      const contextLength = positiveInt(opts.contextLength, '--context-length');
      await startBackend(cmd);
      const store = ParamStore.create();
      try {
        const text = store.scope('text');
        const cfg = loadTextWeights(text, opts.weights, {
          config: opts.config, heads, contextLength, activation: opts.activation as TextActivation | undefined,
        });
        const encoder = new TextEncoder(text, cfg);
        const ids = tokenize(opts.text, cfg.contextLength);
        const emb = tf.tidy(() => encoder.forward(tf.tensor2d(ids, [opts.text.length, cfg.contextLength], 'int32')));
        const embeddings = emb.arraySync();
        emb.dispose();
        const tokens = opts.text.map((_, i) => Array.from(ids.subarray(i * cfg.contextLength, (i + 1) * cfg.contextLength)));
        process.stdout.write(`${JSON.stringify({ tokens, embeddings })}\n`);
      } finally {
        store.dispose();
      }
    });
}
