import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../../helpers/tf.ts';
import { tokenize } from '../../../src/model/text/tokenizer.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { TextEncoder } from '../../../src/model/text/textEncoder.ts';
import { TEXT_PRESETS } from '../../../src/model/text/config.ts';
import { Rng } from '../../../src/ops/rng.ts';
import { done, fixture, fixtureIds, HF_FILE, loadEncoder, OPENCLIP_FILE, rows, TOL } from './golden.ts';

before(setupBackend);

const SCHEMES = [
  { name: 'open_clip naming', file: OPENCLIP_FILE, opts: { heads: 4 } },
  { name: 'Hugging Face naming + HF config', file: HF_FILE, opts: { config: fixture().hf_config_equivalent } },
];

for (const s of SCHEMES) {
  test(`golden (${s.name}): embeddings, both blocks, ln_final and text_features match open_clip`, async () => {
    const fx = fixture();
    await expectNoLeak(() => {
      const l = loadEncoder(s.file, s.opts);
      assert.deepEqual({ ...l.cfg, layerNormEps: undefined },
        { vocabSize: 49408, contextLength: 16, width: 32, heads: 4, layers: 2, outputDim: 24, activation: 'quickgelu', layerNormEps: undefined });
      const ids = fixtureIds();
      const tr = l.enc.trace(ids);
      assertClose(tr.embeddings.dataSync(), fx.embeddings.data, { ...TOL, what: 'embeddings' });
      assertClose(tr.blocks[0]!.dataSync(), fx.after_block_0.data, { ...TOL, what: 'after_block_0' });
      assertClose(tr.blocks[1]!.dataSync(), fx.after_block_1.data, { ...TOL, what: 'after_block_1' });
      assertClose(tr.hidden.dataSync(), fx.hidden_after_ln_final.data, { ...TOL, what: 'hidden_after_ln_final' });
      assertClose(tr.features.dataSync(), fx.text_features.data, { ...TOL, what: 'text_features' });
      const feats = l.enc.forward(ids);
      assert.deepEqual(feats.shape, [19, 24]);
      assertClose(feats.dataSync(), fx.text_features.data, { ...TOL, what: 'forward' });
      tf.dispose([ids, feats, tr.embeddings, ...tr.blocks, tr.hidden, tr.features]);
      done(l);
    });
  });
}

test('tokenize -> forward reproduces the fixture features from the raw phrases', async () => {
  const fx = fixture();
  await expectNoLeak(() => {
    const l = loadEncoder(OPENCLIP_FILE, { heads: 4 });
    const texts = fx.tokenizer.cases.map((c) => c.text);
    const out = tf.tidy(() => l.enc.forward(tf.tensor2d(tokenize(texts, 16), [texts.length, 16], 'int32')));
    assertClose(out.dataSync(), fx.text_features.data, { ...TOL, what: 'features' });
    out.dispose();
    done(l);
  });
});

test('batch forward equals one-by-one forward', async () => {
  const fx = fixture();
  await expectNoLeak(() => {
    const l = loadEncoder(OPENCLIP_FILE, { heads: 4 });
    const ids = fixtureIds();
    const batch = l.enc.forward(ids);
    const all = batch.dataSync();
    for (let b = 0; b < 19; b++) {
      const one = tf.tidy(() => l.enc.forward(tf.slice(ids, [b, 0], [1, 16])));
      assertClose(one.dataSync(), all.subarray(b * 24, (b + 1) * 24), { rtol: 1e-5, atol: 1e-6, what: `row ${b}` });
      assertClose(one.dataSync(), rows(fx.text_features, b, b + 1), { ...TOL, what: `row ${b} vs fixture` });
      one.dispose();
    }
    tf.dispose([ids, batch]);
    done(l);
  });
});

test('encodeText: chunks, duplicates and order; the cache returns identical values and leaks nothing', async () => {
  const fx = fixture();
  const texts = fx.tokenizer.cases.map((c) => c.text);
  const l = loadEncoder(OPENCLIP_FILE, { heads: 4 });
  await expectNoLeak(() => {
    const before = tf.memory().numTensors;
    const a = l.enc.encodeText(texts, { chunkSize: 5 });
    assert.deepEqual(a.shape, [19, 24]);
    assertClose(a.dataSync(), fx.text_features.data, { ...TOL, what: 'encodeText' });
    assert.equal(l.enc.cacheSize, 19);
    assert.equal(tf.memory().numTensors, before + 1 + 19); // the output + one cached [D] per concept
    const b = l.enc.encodeText(texts);
    assert.deepEqual([...b.dataSync()], [...a.dataSync()]); // bit-identical from the cache
    const picked = l.enc.encodeText(['ankle boot', 'a photo of a cat', 'ankle boot', 'brand new concept'], { chunkSize: 2 });
    assert.equal(l.enc.cacheSize, 20);
    const p = picked.arraySync();
    assert.deepEqual(p[0], p[2]);
    assertClose(p[0]!, rows(fx.text_features, 4, 5), { ...TOL, what: 'ankle boot' });
    assertClose(p[1]!, rows(fx.text_features, 0, 1), { ...TOL, what: 'a photo of a cat' });
    const empty = l.enc.encodeText([]);
    assert.deepEqual(empty.shape, [0, 24]);
    tf.dispose([a, b, picked, empty]);
    l.enc.clearCache();
    assert.equal(l.enc.cacheSize, 0);
  });
  await expectNoLeak(() => {
    const c = l.enc.encodeText(['teddy bear', 'teddy bear'], { cache: false, chunkSize: 1 });
    assert.equal(l.enc.cacheSize, 0);
    assertClose(c.dataSync(), [...rows(fx.text_features, 2, 3), ...rows(fx.text_features, 2, 3)], { ...TOL, what: 'uncached' });
    c.dispose();
  });
  done(l);
});

test('encodeText drops a stale cache when a parameter is reassigned', async () => {
  const l = loadEncoder(OPENCLIP_FILE, { heads: 4 });
  await expectNoLeak(() => {
    const a = l.enc.encodeText(['traffic light']);
    const proj = l.store.get('text.text_projection');
    tf.tidy(() => proj.assign(tf.mul(proj, 2)));
    const b = l.enc.encodeText(['traffic light']);
    assertClose(b.dataSync(), Array.from(a.dataSync(), (v) => 2 * v), { rtol: 1e-6, atol: 1e-7, what: 'after assign' });
    assert.equal(l.enc.cacheSize, 1);
    tf.dispose([a, b]);
    l.enc.clearCache();
  });
  done(l);
});

test('a fresh encoder creates open_clip-named parameters with open_clip init scales, seeded', async () => {
  await expectNoLeak(() => {
    const store = ParamStore.create();
    const enc = new TextEncoder(store.scope('text'), TEXT_PRESETS.tiny, new Rng(3));
    const names = store.entries().map(([k]) => k);
    assert.equal(names.length, 2 + 12 * 2 + 3);
    assert.deepEqual(names.slice(0, 4), ['text.token_embedding.weight', 'text.positional_embedding', 'text.transformer.resblocks.0.ln_1.weight',
      'text.transformer.resblocks.0.ln_1.bias']);
    assert.equal(names.at(-1), 'text.text_projection');
    const std = (name: string): number => tf.tidy(() => tf.moments(store.get(name)).variance.sqrt().dataSync()[0]!);
    assert.ok(Math.abs(std('text.token_embedding.weight') - 0.02) < 0.001);
    assert.ok(Math.abs(std('text.transformer.resblocks.0.attn.in_proj_weight') - 32 ** -0.5) < 0.02);
    assert.equal(store.count(), 49408 * 32 + 16 * 32 + 2 * (4 * 32 + 96 * 32 + 96 + 32 * 32 + 32 + 128 * 32 + 128 + 32 * 128 + 32) + 64 + 32 * 24);
    const twin = ParamStore.create();
    new TextEncoder(twin, TEXT_PRESETS.tiny, new Rng(3));
    assert.deepEqual(twin.get('text_projection').dataSync(), store.get('text.text_projection').dataSync(), 'same seed, same init');
    twin.dispose();
    // A second encoder on the same scope reuses the parameters instead of creating new ones.
    const again = new TextEncoder(store.scope('text'), TEXT_PRESETS.tiny);
    assert.equal(store.entries().length, names.length);
    const f = tf.tidy(() => again.forward(tf.tensor2d(tokenize(['a cat'], 16), [1, 16], 'int32')));
    assert.deepEqual(f.shape, [1, 24]);
    f.dispose();
    assert.throws(() => new TextEncoder(store.scope('text'), { ...TEXT_PRESETS.tiny, outputDim: 8 }), /text_projection.*\[32,24\].*\[32,8\]/);
    assert.throws(() => new TextEncoder(ParamStore.create(), { ...TEXT_PRESETS.tiny, heads: 5 }), /heads/);
    assert.throws(() => new TextEncoder(ParamStore.create(), { ...TEXT_PRESETS.tiny, widht: 3 } as never), /did you mean 'width'/);
    enc.dispose();
    store.dispose();
  });
});

test('tokenInitStd sets the token-embedding init std (default open_clip 0.02)', async () => {
  await expectNoLeak(() => {
    for (const [std, expected] of [[undefined, 0.02], [1, 1]] as const) {
      const store = ParamStore.create();
      const enc = new TextEncoder(store, { ...TEXT_PRESETS.tiny, tokenInitStd: std }, new Rng(4));
      const got = tf.tidy(() => tf.moments(store.get('token_embedding.weight')).variance.sqrt().dataSync()[0]!);
      assert.ok(Math.abs(got / expected - 1) < 0.01, `std ${got} vs ${expected}`);
      enc.dispose();
      store.dispose();
    }
  });
});

test('gelu activation and non-default MLP width run and keep shapes', async () => {
  await expectNoLeak(() => {
    const store = ParamStore.create();
    const enc = new TextEncoder(store, { ...TEXT_PRESETS.tiny, vocabSize: 49408, activation: 'gelu', mlpWidth: 48, layers: 1 });
    assert.deepEqual(store.get('transformer.resblocks.0.mlp.c_fc.weight').shape, [48, 32]);
    const f = tf.tidy(() => enc.forward(tf.tensor2d(tokenize(['a', 'b c'], 8), [2, 8], 'int32')));
    assert.deepEqual(f.shape, [2, 24]);
    assert.ok(f.dataSync().every(Number.isFinite));
    f.dispose();
    const bad = [tf.zeros([1, 4]) as tf.Tensor2D, tf.zeros([1, 17], 'int32') as tf.Tensor2D];
    assert.throws(() => enc.forward(bad[0]!), /int32/);
    assert.throws(() => enc.forward(bad[1]!), /17 tokens per row but contextLength is 16/);
    tf.dispose(bad);
    store.dispose();
  });
});

for (const [pooling, rows] of [['mean', [[1, 2, 3], [1]]], ['words', [[1, 2], [1]]]] as const) test(`pooling '${pooling}' averages the expected ln_final rows, then projects`, async () => {
  const cfg = { ...TEXT_PRESETS.tiny, pooling };
  const store = ParamStore.create();
  const enc = new TextEncoder(store, cfg, new Rng(11));
  await expectNoLeak(() => {
    const ids = tf.tensor2d(tokenize(['white three', ''], cfg.contextLength), [2, cfg.contextLength], 'int32');
    const tr = enc.trace(ids);
    const hidden = tr.hidden.arraySync() as number[][][]; // [2, L, W]
    const proj = store.get('text_projection').arraySync() as number[][]; // [W, D]
    // 'white three' -> [SOT, white, three, EOT, 0...]: rows 1..3 (mean) or 1..2 (words); '' -> [SOT, EOT, ...]: row 1 only
    const expectedPooled = rows.map((rowsOf, n) => hidden[n]![0]!.map((_, c) => rowsOf.reduce((a, r) => a + hidden[n]![r]![c]!, 0) / rowsOf.length));
    const expected = expectedPooled.map((p) => proj[0]!.map((_, d) => p.reduce((a, v, c) => a + v * proj[c]![d]!, 0)));
    const got = enc.forward(ids);
    assertClose(got.dataSync(), expected.flat(), { rtol: 1e-4, atol: 1e-5, what: `${pooling}-pooled features` });
    tf.dispose([ids, got, tr as unknown as tf.TensorContainer]);
  });
  store.dispose();
});
