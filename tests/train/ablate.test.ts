import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABLATIONS, ablationMarkdown } from '../../src/train/ablate.ts';
import { resolveRecipe } from '../../src/train/recipe.ts';

test('every ablation variant is a valid one-change recipe', () => {
  const base = resolveRecipe('tiny');
  for (const v of ABLATIONS) {
    const r = resolveRecipe('tiny', v.overrides); // throws on a bad key or value
    const changed = JSON.stringify(r) !== JSON.stringify(base);
    assert.equal(changed, v.overrides.length > 0, v.name);
  }
  assert.equal(new Set(ABLATIONS.map((v) => v.name)).size, ABLATIONS.length);
});

test('ablationMarkdown renders one row per variant with n/a for missing numbers', () => {
  const md = ablationMarkdown([
    { name: 'demo recipe', paper: 'defaults', overrides: [], baseAP50: 0.5, novelAP50: 0.25, AP: 0.3, secondsPerPairStep: 0.4, seconds: 120 },
    { name: 'pairs off', paper: 'x', overrides: ['data.imageText.ratio=0'], baseAP50: 0.5, novelAP50: 0, AP: 0.2, secondsPerPairStep: NaN, seconds: 100 },
  ], { steps: 300, evalImages: 200 });
  assert.match(md, /^\| demo recipe \| – \| 0\.500 \| 0\.250 \| 0\.300 \| 0\.400 \| 120 \| defaults \|$/m);
  assert.match(md, /^\| pairs off \| `data\.imageText\.ratio=0` \| 0\.500 \| 0\.000 \| 0\.200 \| n\/a \| 100 \| x \|$/m);
  assert.match(md, /first 200 images/);
});
