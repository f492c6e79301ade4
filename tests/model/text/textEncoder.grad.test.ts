import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setupBackend, expectNoLeak } from '../../helpers/tf.ts';
import { done, fixtureIds, loadEncoder, OPENCLIP_FILE } from './golden.ts';

before(setupBackend);

test('tf.variableGrads through forward: finite, non-zero grads for every parameter, zero for unused vocab rows', async () => {
  const l = loadEncoder(OPENCLIP_FILE, { heads: 4 });
  await expectNoLeak(() => {
    const ids = fixtureIds();
    const vars = l.store.entries().map(([, v]) => v);
    const R = tf.randomNormal([19, 24], 0, 1, 'float32', 7);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(l.enc.forward(ids), R)) as tf.Scalar, vars);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    for (const [name, g] of Object.entries(grads)) {
      const d = g.dataSync();
      assert.ok(d.every(Number.isFinite), `${name}: non-finite gradient`);
      assert.ok(d.some((x) => x !== 0), `${name}: all-zero gradient`);
    }
    const tokGrad = Object.entries(grads).find(([k]) => k.startsWith('text.token_embedding.weight'))![1];
    const rowNorm = (r: number): number => tf.tidy(() => tf.sum(tf.abs(tf.slice(tokGrad, [r, 0], [1, 32]))).dataSync()[0]!);
    assert.ok(rowNorm(320) > 0, "'a' (id 320) is used: non-zero grad");
    assert.ok(rowNorm(49407) > 0, 'EOT is used: non-zero grad');
    assert.equal(rowNorm(0), 0, 'id 0 only appears as padding after EOT, which the causal mask hides from the output');
    assert.equal(rowNorm(1000), 0, 'an unused vocab row gets no gradient');
    tf.dispose([ids, R, value, ...Object.values(grads)]);
  });
  done(l);
});

test('gradient w.r.t. text_projection and a token row agrees with central finite differences', async () => {
  const l = loadEncoder(OPENCLIP_FILE, { heads: 4 });
  await expectNoLeak(() => {
    const ids = fixtureIds();
    const R = tf.randomNormal([19, 24], 0, 1, 'float32', 11);
    const loss = (): tf.Scalar => tf.tidy(() => tf.sum(tf.mul(l.enc.forward(ids), R)) as tf.Scalar);
    const proj = l.store.get('text.text_projection');
    const tok = l.store.get('text.token_embedding.weight');
    const { value, grads } = tf.variableGrads(loss, [proj, tok]);
    const gProj = grads[proj.name]!.dataSync();
    const gTok = grads[tok.name]!.dataSync();
    // Perturb one entry at a time (float32: eps 1e-2, loose tolerance).
    const check = (v: tf.Variable, flat: number, analytic: number): void => {
      const eps = 1e-2;
      const base = v.dataSync().slice();
      const at = (delta: number): number => {
        const d = base.slice();
        d[flat]! += delta;
        tf.tidy(() => v.assign(tf.tensor(d, v.shape)));
        const s = loss();
        const out = s.dataSync()[0]!;
        s.dispose();
        return out;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      assert.ok(Math.abs(numeric - analytic) <= 2e-3 + 2e-2 * Math.abs(analytic), `${v.name}[${flat}]: numeric ${numeric} vs analytic ${analytic}`);
    };
    for (const flat of [0, 100, 767]) check(proj, flat, gProj[flat]!);
    for (const flat of [320 * 32 + 3, 1125 * 32 + 17]) check(tok, flat, gTok[flat]!); // rows of 'a', 'photo'
    tf.dispose([ids, R, value, ...Object.values(grads)]);
  });
  done(l);
});
