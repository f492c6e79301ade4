// Fuzz target for the remaining configuration files: a data config (YAML), a concept dictionary (concepts.json)
// and a foreign (Hugging Face / open_clip) text-encoder config.json, each mutated from a valid one.
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadDataConfig } from '../../src/data/config.ts';
import { loadConceptDictionary } from '../../src/data/conceptDictionary.ts';
import { readForeignTextConfig } from '../../src/model/text/hfConfig.ts';
import { ensure, expectClean, mutatedBytes, randomBytes, type FuzzTarget } from './harness.ts';
import { jsonInputs } from './dataTargets.ts';

interface ConfigCtx { files: Record<Kind, string>; bases: Record<Kind, unknown> }
type Kind = 'data' | 'concepts' | 'hf' | 'openclip';
type ConfigInput = { kind: Kind; bytes: Uint8Array };

const BASES: Record<Kind, unknown> = {
  data: {
    sources: [
      { kind: 'detection', format: 'coco', file: 'ann/coco.json', images: 'img', weight: 2 },
      { kind: 'grounding', format: 'odvg', file: 'g.jsonl' },
      { kind: 'imageText', format: 'wds', file: ['s-{000..002}.tar'], shuffleBuffer: 10 },
    ],
    ratios: { detection: 1, grounding: 1, imageText: 0.5 },
    detection: { batchSize: 2, resize: { mode: 'shortSide', short: 64, max: 96 }, scaleJitter: [0.8, 1.2] },
    conceptDictionary: 'concepts.json', enrich: false, textOverrides: { hot_dog: 'hot dog' },
  },
  concepts: { version: 1, minCount: 2, concepts: [{ text: 'red car', count: 5 }, { text: 'dog', count: 2 }], categories: [{ name: 'cat', split: 'base', text: 'cat' }] },
  hf: { projection_dim: 64, text_config: { hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 2, vocab_size: 49408, intermediate_size: 256, max_position_embeddings: 77, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5 } },
  openclip: { embed_dim: 64, quick_gelu: true, text_cfg: { context_length: 77, vocab_size: 49408, width: 64, heads: 4, layers: 2, mlp_ratio: 4 } },
};

export const configsTarget: FuzzTarget<ConfigCtx, ConfigInput> = {
  name: 'configs', about: 'loadDataConfig (YAML), loadConceptDictionary, readForeignTextConfig (HF, open_clip), mutated', boundMs: 2000, testRuns: 200,
  async setup(dir) {
    const files: Record<Kind, string> = { data: path.join(dir, 'data.yaml'), concepts: path.join(dir, 'concepts.json'), hf: path.join(dir, 'hf-config.json'), openclip: path.join(dir, 'openclip.json') };
    return { files, bases: BASES };
  },
  arbitrary: (c) => fc.constantFrom<Kind>('data', 'concepts', 'hf', 'openclip').chain((kind) => fc.oneof(
    jsonInputs(c.bases[kind]),
    kind === 'data' ? mutatedBytes(Buffer.from(YAML.stringify(c.bases.data))) : randomBytes(),
  ).map((bytes) => ({ kind, bytes }))),
  async run(c, input) {
    const file = c.files[input.kind];
    fs.writeFileSync(file, input.bytes);
    if (input.kind === 'data') {
      const cfg = await expectClean([file], () => loadDataConfig(file));
      if (cfg) ensure(cfg.sources.length > 0 && cfg.sources.every((s) => (Array.isArray(s.file) ? s.file : [s.file]).every((f) => path.isAbsolute(f))), 'source paths not resolved');
    } else if (input.kind === 'concepts') {
      const d = await expectClean([file], () => loadConceptDictionary(file));
      if (d) ensure(d.concepts.every((e) => typeof e.text === 'string' && e.text !== '' && Number.isInteger(e.count)), 'bad concept entry');
    } else {
      const t = await expectClean([file], () => readForeignTextConfig(file));
      if (t) ensure(Object.values(t).every((v) => v === undefined || typeof v === 'string' || Number.isFinite(v)), `bad text config ${JSON.stringify(t)}`);
    }
  },
};
