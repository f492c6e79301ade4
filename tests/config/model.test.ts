// Model config: presets validate, aliases, strict overrides with suggestions, cross-field checks.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_PRESETS, ModelConfigSchema, modelPresetName, resolveModelConfig } from '../../src/config/model.ts';
import { UserError } from '../../src/errors.ts';
import { formatModelInfo, modelInfo, textMacsPerConcept } from '../../src/cli/commands/model.ts';
import { setupBackend, tf } from '../helpers/tf.ts';

describe('model config', () => {
  it('every preset parses strictly; aliases t and l', () => {
    for (const name of Object.keys(MODEL_PRESETS)) assert.ok(ModelConfigSchema.safeParse(MODEL_PRESETS[name as keyof typeof MODEL_PRESETS]).success, name);
    assert.equal(modelPresetName('t'), 'swin-t');
    assert.equal(modelPresetName('L'), 'swin-l');
    assert.equal(resolveModelConfig('t').backbone.type, 'swin');
    const tiny = resolveModelConfig('tiny');
    assert.deepEqual(tiny.input, { height: 128, width: 128 });
    assert.equal(tiny.text.contextLength, 16);
    assert.equal(tiny.head.embedDim, tiny.text.outputDim);
  });

  it('paper presets: Swin-T / Swin-L sizes, ResNet-50 depths, 800x1333 input, DCN on', () => {
    const t = resolveModelConfig('swin-t');
    assert.deepEqual(t.backbone, { type: 'swin', patchSize: 4, embedDim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], window: 7, mlpRatio: 4, dropPath: 0.2 });
    const l = resolveModelConfig('swin-l');
    assert.ok(l.backbone.type === 'swin' && l.backbone.embedDim === 192 && l.backbone.depths[2] === 18);
    const r = resolveModelConfig('r50');
    assert.ok(r.backbone.type === 'resnet' && r.backbone.depths.join() === '3,4,6,3' && r.backbone.block === 'bottleneck');
    for (const c of [t, l, r]) {
      assert.deepEqual(c.input, { height: 800, width: 1333 });
      assert.equal(c.head.useDcn, true);
      assert.equal(c.head.priorProb, 0.01);
      assert.equal(c.fpn.extraLevels, 2);
    }
  });

  it('overrides merge deeply and do not touch the preset', () => {
    const c = resolveModelConfig('tiny', { head: { useDcn: false }, input: { height: 96 } });
    assert.equal(c.head.useDcn, false);
    assert.equal(c.head.towerConvs, 2);
    assert.deepEqual(c.input, { height: 96, width: 128 });
    assert.equal(MODEL_PRESETS.tiny.head.useDcn, true);
  });

  it('a different backbone type replaces the backbone', () => {
    const c = resolveModelConfig('tiny', { backbone: { type: 'resnet', block: 'basic', depths: [1, 1, 1, 1], frozenBn: true, freezeBnAffine: false, frozenStages: 0 } });
    assert.equal(c.backbone.type, 'resnet');
  });

  it('bad input is one UserError line: unknown preset / key (with suggestion), cross-field mismatch', () => {
    assert.throws(() => resolveModelConfig('swin_t'), (e: Error) => e instanceof UserError && /unknown model preset 'swin_t' \(did you mean 'swin-t'\?\)/.test(e.message));
    assert.throws(() => resolveModelConfig('tiny', { head: { useDCN: false } }), (e: Error) => e instanceof UserError && /unknown key 'head.useDCN' \(did you mean 'useDcn'\?\)/.test(e.message));
    assert.throws(() => resolveModelConfig('tiny', { head: { embedDim: 32 } }), (e: Error) => e instanceof UserError && /embedDim 32 must equal text.outputDim 64/.test(e.message));
    assert.throws(() => resolveModelConfig('tiny', { head: { gnGroups: 7 } }), (e: Error) => e instanceof UserError && /not divisible by head.gnGroups 7/.test(e.message));
    assert.throws(() => resolveModelConfig('tiny', { head: { priorProb: 1 } }), UserError);
    assert.throws(() => resolveModelConfig('swin-t', { backbone: { heads: [5, 6, 12, 24] } }), /stage 1 width 96 is not divisible by 5 heads/);
    for (const bad of [() => resolveModelConfig('nope'), () => resolveModelConfig('tiny', { fpn: { outChannels: -1 } })]) {
      assert.throws(bad, (e: Error) => !e.message.includes('\n'));
    }
  });
});

describe('model info (detclip model info)', () => {
  before(setupBackend);

  it('tiny: a few million parameters incl. text; parts add up; text counted from the CLIP formula', () => {
    const cfg = resolveModelConfig('tiny');
    const before = tf.memory().numTensors;
    const info = modelInfo('tiny', cfg);
    assert.equal(tf.memory().numTensors, before, 'the temporary model is freed');
    const p = info.params;
    assert.equal(p.total, p.backbone + p.neck + p.head + p.text);
    assert.ok(p.total > 2e6 && p.total < 8e6, `${p.total}`);
    // CLIP text tower, width 64, 2 layers, context 16, D 64, vocab 49408:
    // tok 49408·64 + pos 16·64 + 2·(2 LN 4·64 + in_proj 3·64·64+3·64 + out 64·64+64 + fc 256·64+256 + proj 64·256+64) + ln_final 2·64 + proj 64·64
    const perLayer = 4 * 64 + (3 * 64 * 64 + 3 * 64) + (64 * 64 + 64) + (256 * 64 + 256) + (64 * 256 + 64);
    assert.equal(p.text, 49408 * 64 + 16 * 64 + 2 * perLayer + 2 * 64 + 64 * 64);
    // per concept: 2 layers · (16 tokens · (3·64² + 64² + 2·64·256) + 2·16²·64) + 64·64
    assert.equal(textMacsPerConcept(cfg.text), 2 * (16 * (4 * 64 * 64 + 2 * 64 * 256) + 2 * 256 * 64) + 64 * 64);
    assert.equal(info.macs.image, info.macs.backbone + info.macs.neck + info.macs.head);
    assert.equal(info.anchors.total, 16 * 16 + 8 * 8 + 4 * 4);
    const text = formatModelInfo(info, cfg);
    assert.match(text, /backbone +[\d,]+/);
    assert.match(text, /forward at 128x128/);
  });
});
