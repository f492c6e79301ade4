// TextEncoder.forward cuts the ids after the last first-EOT column; the features must equal the full-context ones.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, expectNoLeak, setupBackend, tf } from '../../helpers/tf.ts';
import { ParamStore } from '../../../src/model/params.ts';
import { TextEncoder } from '../../../src/model/text/textEncoder.ts';
import { textTransformer } from '../../../src/model/text/textTransformer.ts';
import { tokenize } from '../../../src/model/text/tokenizer.ts';
import { Rng } from '../../../src/ops/rng.ts';

before(setupBackend);

for (const pooling of ['eot', 'mean', 'words'] as const) {
  test(`forward on short concepts (${pooling} pooling) equals the full 16-token forward`, async () => {
    const store = ParamStore.create();
    const cfg = { vocabSize: 49408, contextLength: 16, width: 32, heads: 4, layers: 2, outputDim: 24, activation: 'quickgelu' as const, pooling };
    const enc = new TextEncoder(store.scope('text'), cfg, new Rng(3));
    await expectNoLeak(() => {
      const texts = ['cat', 'a red car', 'dog'];
      const ids = tf.tensor2d(tokenize(texts, 16), [3, 16], 'int32');
      const eotCol = Array.from(ids.dataSync()).findIndex((v, i) => i >= 16 && v === 49407) - 16; // 'a red car': SOT a red car EOT
      assert.equal(eotCol, 4, 'the longest row ends at column 4: the forward runs 5 of 16 columns');
      const got = enc.forward(ids);
      const want = tf.tidy(() => textTransformer((n) => store.get(`text.${n}`), enc.cfg, ids).features);
      assertClose(got.dataSync(), want.dataSync(), { rtol: 1e-5, atol: 1e-6, what: 'features' });
      tf.dispose([ids, got, want]);
    });
    store.dispose();
  });
}
