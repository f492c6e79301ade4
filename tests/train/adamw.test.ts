import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak, assertClose } from '../helpers/tf.ts';
import { ParamStore } from '../../src/model/params.ts';
import { AdamW } from '../../src/train/adamw.ts';
import { decays, lrMultFor, lrRulesFor, DEFAULT_LR_RULES } from '../../src/train/paramGroups.ts';
import { applyOverrides } from '../../src/train/configOverrides.ts';
import { preset } from '../../src/train/trainConfig.ts';

before(setupBackend);

const B1 = 0.9, B2 = 0.999, EPS = 1e-8;

/** torch.optim.AdamW for one scalar, written out by hand in float64 (the reference). */
function torchAdamW(p: number, grads: number[], lr: number, wd: number): number {
  let m = 0, v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    p *= 1 - lr * wd;
    m = B1 * m + (1 - B1) * g;
    v = B2 * v + (1 - B2) * g * g;
    const mHat = m / (1 - B1 ** t);
    const vHat = v / (1 - B2 ** t);
    p -= (lr * mHat) / (Math.sqrt(vHat) + EPS);
  });
  return p;
}

test('parameter groups: text encoder x0.1 lr; no decay for rank<=1, norms, embeddings, logit scale', () => {
  const rules = DEFAULT_LR_RULES(0.1);
  assert.equal(lrMultFor('text.transformer.resblocks.0.attn.in_proj_weight', rules), 0.1);
  assert.equal(lrMultFor('backbone.layer1.0.conv1.weight', rules), 1);
  assert.equal(lrMultFor('textual.x', rules), 1, 'prefix is text. with the dot');
  assert.equal(decays('backbone.layer1.0.conv1.weight', [3, 3, 64, 64]), true);
  assert.equal(decays('head.cls.weight', [256, 80]), true);
  assert.equal(decays('head.cls.bias', [80]), false);
  assert.equal(decays('backbone.bn1.weight', [64]), false);
  assert.equal(decays('logit_scale', []), false);
  assert.equal(decays('text.token_embedding.weight', [49408, 512]), false);
  assert.equal(decays('text.positional_embedding', [77, 512]), false);
  assert.equal(decays('backbone.layers.0.blocks.0.attn.relative_position_bias_table', [169, 3]), false);
  assert.equal(decays('backbone.layers.0.downsample.norm.weight', [2, 2]), false, 'norm by name even if rank 2');
  assert.equal(decays('text.ln_final.weight', [512, 1]), false);
});

test('2-step update equals hand-computed torch AdamW, with groups and per-parameter step counts', async () => {
  await expectNoLeak(() => {
    const store = ParamStore.create();
    const w = store.scope('head').add('fc.weight', tf.tensor2d([[1.0, -2.0]]));  // decays, lr x1
    const b = store.scope('head').add('fc.bias', tf.tensor1d([0.5]));           // no decay
    const t = store.scope('text').add('proj.weight', tf.tensor2d([[3.0]]));      // decays, lr x0.1
    const late = store.add('late.weight', tf.tensor2d([[0.7]]));                 // grad only at step 2
    store.add('bn.running_mean', tf.tensor1d([9]), false);                       // not trainable
    const lr = 0.1, wd = 0.05;
    const opt = new AdamW(store, { lr, weightDecay: wd });
    const g1 = { w: [0.5, -1], b: 0.2, t: -0.3 };
    const g2 = { w: [0.1, 0.3], b: -0.4, t: 0.6, late: 2.0 };
    const grads1 = new Map<string, tf.Tensor>([
      ['head.fc.weight', tf.tensor2d([g1.w])], ['head.fc.bias', tf.tensor1d([g1.b])], ['text.proj.weight', tf.tensor2d([[g1.t]])],
    ]);
    opt.applyGradients(grads1);
    // step 2 uses TF.js variable names as keys (what tf.variableGrads returns)
    const grads2: Record<string, tf.Tensor> = {
      [w.name]: tf.tensor2d([g2.w]), [b.name]: tf.tensor1d([g2.b]), [t.name]: tf.tensor2d([[g2.t]]), [late.name]: tf.tensor2d([[g2.late]]),
    };
    opt.applyGradients(grads2);
    const expected = [
      torchAdamW(1.0, [g1.w[0]!, g2.w[0]!], lr, wd), torchAdamW(-2.0, [g1.w[1]!, g2.w[1]!], lr, wd),
      torchAdamW(0.5, [g1.b, g2.b], lr, 0),
      torchAdamW(3.0, [g1.t, g2.t], lr * 0.1, wd),
      torchAdamW(0.7, [g2.late], lr, wd), // its own t = 1
    ];
    const got = [...w.dataSync(), ...b.dataSync(), ...t.dataSync(), ...late.dataSync()];
    assertClose(got, expected, { rtol: 1e-6, atol: 1e-7, what: 'params after 2 steps' });
    // sanity on the reference itself: first Adam step moves each weight by ~lr against the gradient sign
    assert.ok(Math.abs(torchAdamW(1, [0.5], 0.1, 0) - 0.9) < 1e-6);
    assert.equal(store.get('bn.running_mean').dataSync()[0], 9);
    assert.equal(opt.step, 2);
    for (const g of [...grads1.values(), ...Object.values(grads2)]) g.dispose();
    opt.dispose();
    store.dispose();
  });
});

test('state round-trip continues identically; bad grads and state are rejected by name', async () => {
  await expectNoLeak(() => {
    const mk = (): { store: ParamStore; opt: AdamW } => {
      const store = ParamStore.create();
      store.add('a.weight', tf.tensor2d([[1, 2], [3, 4]]));
      store.add('frozen', tf.tensor1d([1]), false);
      return { store, opt: new AdamW(store, { lr: 0.01 }) };
    };
    const g = (s: number): Map<string, tf.Tensor> => new Map([['a.weight', tf.tensor2d([[s, -s], [2 * s, 0.5]])]]);
    const run = (o: AdamW, s: number): void => { const m = g(s); o.applyGradients(m); m.get('a.weight')!.dispose(); };
    const A = mk();
    run(A.opt, 1); run(A.opt, -2);
    const B = mk();
    B.store.get('a.weight').assign(A.store.get('a.weight'));
    B.opt.setState(A.opt.getState());
    run(A.opt, 0.5); run(B.opt, 0.5);
    assert.deepEqual([...B.store.get('a.weight').dataSync()], [...A.store.get('a.weight').dataSync()]);
    assert.equal(B.opt.step, 3);

    const bad = new Map([['a.weight', tf.zeros([3])]]);
    assert.throws(() => A.opt.applyGradients(bad), /'a.weight' has shape \[3\], parameter is \[2,2\]/);
    bad.get('a.weight')!.dispose();
    const frozen = new Map([['frozen', tf.zeros([1])]]);
    assert.throws(() => A.opt.applyGradients(frozen), /non-trainable parameter 'frozen'/);
    frozen.get('frozen')!.dispose();
    const unknown = new Map([['nope', tf.zeros([1])]]);
    assert.throws(() => A.opt.applyGradients(unknown), /unknown parameter 'nope'/);
    unknown.get('nope')!.dispose();
    const st = A.opt.getState();
    st.slots.set('ghost', { m: new Float32Array(1), v: new Float32Array(1), t: 1, shape: [1] });
    assert.throws(() => B.opt.setState(st, 'ck/optimizer.safetensors'), /ck\/optimizer.safetensors: moments for parameter 'ghost'/);
    for (const x of [A, B]) { x.opt.dispose(); x.store.dispose(); }
  });
});

test('train.lrRules override comes before the text x textLrMult default (first match wins)', () => {
  const c = applyOverrides(preset('tiny'), ['train.lrRules=[{"prefix":"text.token_embedding","lrMult":1}]']);
  const rules = lrRulesFor(c.train);
  assert.equal(lrMultFor('text.token_embedding.weight', rules), 1);
  assert.equal(lrMultFor('text.transformer.resblocks.0.attn.in_proj_weight', rules), 0.1);
  assert.equal(lrMultFor('head.cls.weight', rules), 1);
  assert.deepEqual(lrRulesFor(preset('tiny').train), DEFAULT_LR_RULES(0.1));
  assert.throws(() => applyOverrides(preset('tiny'), ['train.lrRules=[{"prefix":"x","lrMul":1}]']), /lrMul/);
});
