import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setupBackend } from '../helpers/tf.ts';
import { generateOvdMnist } from '../../src/data/synth/ovdMnist.ts';
import { ovdMnistDataConfig } from '../../src/data/config.ts';
import { resolveRecipe } from '../../src/train/recipe.ts';
import { trainDetClip } from '../../src/train/trainDetClip.ts';
import { readMetrics } from '../../src/train/metricsLog.ts';
import { loadModelDir } from '../../src/model/detclip.ts';

const SMALL = ['model.text.width=16', 'model.text.heads=2', 'model.text.layers=1', 'model.text.outputDim=16', 'model.head.embedDim=16',
  'model.fpn.outChannels=16', 'model.head.gnGroups=4', 'model.head.towerConvs=1',
  'data.detection.batchSize=2', 'data.grounding.batchSize=2', 'data.imageText.batchSize=4', 'train.checkpointEvery=2'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-train-'));
const dataDir = path.join(tmp, 'data');
before(async () => {
  await setupBackend();
  await generateOvdMnist({ out: dataDir, seed: 5, train: 30, val: 3, poolLimit: 20 });
});

const losses = (dir: string): string[] => readMetrics(path.join(dir, 'metrics.jsonl'))
  .filter((r) => r.kind !== 'eval').map((r) => `${r.step} ${r.kind} ${(r as { loss: number }).loss}`);

test('joint training resumed from a checkpoint gives the same loss sequence as an uninterrupted run', async () => {
  const run = async (out: string, steps: number, resume?: string, stopAt?: number) => {
    const r = resolveRecipe('tiny', [...SMALL, `train.steps=${steps}`]);
    const stop = new AbortController();
    // a run interrupted (Ctrl-C) right after its step-`stopAt` checkpoint
    const log = (l: string): void => { if (stopAt !== undefined && l.startsWith(`step ${stopAt}: checkpoint`)) stop.abort(); };
    const res = await trainDetClip({ model: r.model, train: r.train, data: ovdMnistDataConfig(dataDir), outDir: out, resume, quiet: true, workers: 0, log, signal: stop.signal });
    res.model.dispose();
    return res;
  };
  const straight = path.join(tmp, 'straight');
  await run(straight, 4);
  const part = path.join(tmp, 'part');
  const stopped = await run(part, 4, undefined, 2);
  assert.equal(stopped.step, 2);
  assert.equal(losses(part).length, 2);
  await run(part, 4, path.join(part, 'checkpoint'));
  assert.deepEqual(losses(part), losses(straight));
  // a changed recipe is refused on resume, naming the key
  await assert.rejects(() => run(path.join(tmp, 'other'), 5, path.join(part, 'checkpoint')), /train\.steps/);
  const kinds = new Set(readMetrics(path.join(straight, 'metrics.jsonl')).map((r) => r.kind));
  assert.ok(kinds.size >= 2, 'more than one data kind in 4 steps');
  assert.equal(losses(straight).length, 4);
  assert.ok(fs.existsSync(path.join(straight, 'model', 'model.safetensors')));
  const { model } = loadModelDir(path.join(straight, 'model'));
  model.dispose();
  // an output dir holding a run is refused without --resume
  await assert.rejects(() => run(straight, 4), /already holds a training run/);
});
