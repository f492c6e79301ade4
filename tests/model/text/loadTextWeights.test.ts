import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, setupBackend, expectNoLeak, assertClose } from '../../helpers/tf.ts';
import { readSafetensors, writeSafetensors, type StWriteTensor } from '../../../src/io/safetensors.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { loadTextWeights } from '../../../src/model/text/loadTextWeights.ts';
import { readForeignTextConfig } from '../../../src/model/text/hfConfig.ts';
import { TextEncoder } from '../../../src/model/text/textEncoder.ts';
import { TEXT_PRESETS } from '../../../src/model/text/config.ts';
import { UserError } from '../../../src/errors.ts';
import { done, fixture, HF_FILE, loadEncoder, OPENCLIP_FILE, rows, TOL } from './golden.ts';

let dir = '';
before(async () => {
  await setupBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-text-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Copies a fixture file with renamed / dropped / added tensors. */
function variant(name: string, src: string, edit: (m: Map<string, StWriteTensor>) => void): string {
  const m = new Map<string, StWriteTensor>();
  for (const [k, t] of readSafetensors(src).tensors) m.set(k, { shape: t.shape, data: t.data });
  edit(m);
  const file = path.join(dir, name);
  writeSafetensors(file, m);
  return file;
}

const rename = (m: Map<string, StWriteTensor>, f: (k: string) => string): void => {
  const entries = [...m];
  m.clear();
  for (const [k, t] of entries) m.set(f(k), t);
};

/** Features for fixture phrases [0, 3) through encodeText, compared with the fixture. */
function expectFixtureFeatures(enc: TextEncoder, what: string): void {
  const fx = fixture();
  const out = enc.encodeText(fx.tokenizer.cases.slice(0, 3).map((c) => c.text), { cache: false });
  assertClose(out.dataSync(), rows(fx.text_features, 0, 3), { ...TOL, what });
  out.dispose();
}

function expectUserError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.ok(!(e as Error).message.includes('\n'), 'one line');
    assert.match((e as Error).message, re);
    return true;
  });
}

test('detects a key prefix and ignores other towers (full CLIP checkpoints, our own text.* checkpoints)', async () => {
  const oc = variant('prefixed_openclip.safetensors', OPENCLIP_FILE, (m) => {
    rename(m, (k) => `text.${k}`);
    m.set('visual.transformer.resblocks.0.attn.in_proj_weight', { shape: [6, 2], data: new Float32Array(12) });
    m.set('logit_scale', { shape: [], data: [4.6] });
  });
  const hf = variant('full_clipmodel_hf.safetensors', HF_FILE, (m) => {
    m.set('vision_model.encoder.layers.0.self_attn.q_proj.weight', { shape: [2, 2], data: new Float32Array(4) });
    m.set('visual_projection.weight', { shape: [2, 2], data: new Float32Array(4) });
  });
  await expectNoLeak(() => {
    for (const [file, opts] of [[oc, { heads: 4 }], [hf, { heads: 4 }]] as const) {
      const l = loadEncoder(file, opts);
      assert.equal(l.cfg.layers, 2);
      assert.equal(l.store.entries().length, 29);
      expectFixtureFeatures(l.enc, path.basename(file));
      done(l);
    }
  });
});

test('HF naming and open_clip naming give identical parameters (q/k/v concatenated, projection transposed)', async () => {
  await expectNoLeak(() => {
    const a = loadEncoder(OPENCLIP_FILE, { heads: 4 });
    const b = loadEncoder(HF_FILE, { heads: 4 });
    const bn = new Map(b.store.entries());
    for (const [k, v] of a.store.entries()) assert.deepEqual([...bn.get(k)!.dataSync()], [...v.dataSync()], k);
    done(a);
    done(b);
  });
});

test('configs: HF flat / nested text_config, open_clip text_cfg; options override; defaults', () => {
  const hf = fixture().hf_config_equivalent;
  const flat = path.join(dir, 'config.json');
  fs.writeFileSync(flat, JSON.stringify({ ...hf, architectures: ['CLIPTextModelWithProjection'], torch_dtype: 'float32' }));
  assert.deepEqual(readForeignTextConfig(flat), {
    vocabSize: 49408, width: 32, heads: 4, layers: 2, mlpWidth: 128, outputDim: 24, positions: 16, activation: 'quickgelu', layerNormEps: 1e-5,
  });
  const { projection_dim: proj, ...rest } = hf;
  const nested = readForeignTextConfig({ text_config: { ...rest, hidden_act: 'gelu' }, vision_config: {}, projection_dim: proj });
  assert.equal(nested.outputDim, 24);
  assert.equal(nested.activation, 'gelu');
  assert.deepEqual(readForeignTextConfig({ embed_dim: 24, quick_gelu: true, text_cfg: { context_length: 16, vocab_size: 49408, width: 32, heads: 4, layers: 2 }, vision_cfg: {} }),
    { vocabSize: 49408, width: 32, heads: 4, layers: 2, positions: 16, outputDim: 24, activation: 'quickgelu' });
  assert.equal(readForeignTextConfig({ embed_dim: 24, text_cfg: { width: 32, heads: 4 } }).activation, 'gelu'); // open_clip default act

  const store = ParamStore.create();
  const cfg = loadTextWeights(store, OPENCLIP_FILE, { config: flat, activation: 'gelu', layerNormEps: 1e-6 });
  assert.deepEqual(cfg, { vocabSize: 49408, contextLength: 16, width: 32, heads: 4, layers: 2, outputDim: 24, activation: 'gelu', layerNormEps: 1e-6 });
  store.dispose();
});

test('contextLength option keeps the first positional rows; short phrases keep their features', async () => {
  await expectNoLeak(() => {
    const l = loadEncoder(OPENCLIP_FILE, { heads: 4, contextLength: 8 });
    assert.equal(l.cfg.contextLength, 8);
    assert.deepEqual(l.store.get('text.positional_embedding').shape, [8, 32]);
    expectFixtureFeatures(l.enc, 'ctx 8'); // phrases 0..2 have EOT at index <= 6
    done(l);
  });
  expectUserError(() => loadTextWeights(ParamStore.create(), OPENCLIP_FILE, { heads: 4, contextLength: 17 }), /contextLength 17 exceeds the 16 positions/);
});

test('loading into an existing encoder assigns its variables (and its cache goes stale)', async () => {
  await expectNoLeak(() => {
    const store = ParamStore.create();
    const enc = new TextEncoder(store.scope('text'), TEXT_PRESETS.tiny);
    const before = enc.encodeText(['a photo of a cat']);
    loadTextWeights(store.scope('text'), HF_FILE, { heads: 4 });
    assert.equal(store.entries().length, 29);
    expectFixtureFeatures(enc, 'after load');
    const cached = enc.encodeText(['a photo of a cat']);
    assertClose(cached.dataSync(), rows(fixture().text_features, 0, 1), { ...TOL, what: 'cache refreshed' });
    tf.dispose([before, cached]);
    enc.dispose();
    expectUserError(() => loadTextWeights(store.scope('text'), OPENCLIP_FILE, { heads: 4, contextLength: 8 }), /positional_embedding.*\[16,32\]/);
    store.dispose();
  });
});

test('bad weights and configs fail with one UserError line naming the file', () => {
  const s = ParamStore.create();
  expectUserError(() => loadTextWeights(s, path.join(dir, 'nope.safetensors')), /nope\.safetensors: cannot open: ENOENT/);
  const junk = path.join(dir, 'junk.safetensors');
  fs.writeFileSync(junk, 'not a safetensors file at all');
  expectUserError(() => loadTextWeights(s, junk), /junk\.safetensors: .*header/);
  const other = variant('resnet_like.safetensors', OPENCLIP_FILE, (m) => rename(m, (k) => k.replace('token_embedding', 'tok_emb')));
  expectUserError(() => loadTextWeights(s, other), /resnet_like\.safetensors: no CLIP text-encoder tensors/);
  const missing = variant('missing.safetensors', OPENCLIP_FILE, (m) => m.delete('transformer.resblocks.1.mlp.c_fc.bias'));
  expectUserError(() => loadTextWeights(s, missing, { heads: 4 }), /missing\.safetensors: missing tensor 'transformer\.resblocks\.1\.mlp\.c_fc\.bias'/);
  const gap = variant('gap.safetensors', OPENCLIP_FILE, (m) => rename(m, (k) => k.replace('resblocks.1.', 'resblocks.2.')));
  expectUserError(() => loadTextWeights(s, gap, { heads: 4 }), /gap\.safetensors: text transformer layer 1 is missing/);
  const badShape = variant('bad_shape.safetensors', OPENCLIP_FILE, (m) => m.set('ln_final.bias', { shape: [31], data: new Float32Array(31) }));
  expectUserError(() => loadTextWeights(s, badShape, { heads: 4 }), /bad_shape\.safetensors: tensor 'ln_final\.bias' has shape \[31\]/);
  expectUserError(() => loadTextWeights(s, OPENCLIP_FILE), /cannot infer the number of attention heads for width 32/);
  expectUserError(() => loadTextWeights(s, OPENCLIP_FILE, { heads: 5 }), /heads.*divisible/);

  const hf = fixture().hf_config_equivalent;
  const cfgFile = (name: string, body: string): string => { const f = path.join(dir, name); fs.writeFileSync(f, body); return f; };
  expectUserError(() => loadTextWeights(s, HF_FILE, { config: cfgFile('wrong.json', JSON.stringify({ ...hf, hidden_size: 64 })) }),
    /wrong\.json: width 64 does not match the weights in .*clip_text_hf\.safetensors \(32\)/);
  expectUserError(() => loadTextWeights(s, HF_FILE, { config: cfgFile('act.json', JSON.stringify({ ...hf, hidden_act: 'relu' })) }), /act\.json: hidden_act 'relu' is not supported/);
  expectUserError(() => loadTextWeights(s, HF_FILE, { config: cfgFile('type.json', JSON.stringify({ ...hf, num_attention_heads: 'four' })) }), /type\.json: 'num_attention_heads'/);
  expectUserError(() => loadTextWeights(s, HF_FILE, { config: cfgFile('broken.json', '{"hidden_size": 32,') }), /broken\.json: config is not valid JSON/);
  expectUserError(() => loadTextWeights(s, HF_FILE, { config: cfgFile('other.json', '{"model_type": "bert"}') }), /other\.json: not a CLIP text config/);
  expectUserError(() => loadTextWeights(s, HF_FILE, { config: path.join(dir, 'absent.json') }), /absent\.json: cannot read config \(ENOENT\)/);
  assert.equal(s.entries().length, 0, 'nothing created on failure');
});
