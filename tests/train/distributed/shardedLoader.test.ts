// The loader's `shard` option: rank slices of the identically drawn global batch; WebDataset shards by rank.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { ovdMnistDataConfig, parseDataConfig, type DataConfig } from '../../../src/data/config.ts';
import { createMixedLoader } from '../../../src/data/mixedLoader.ts';
import { generateOvdMnist } from '../../../src/data/synth/ovdMnist.ts';
import type { Batch } from '../../../src/data/types.ts';
import { UserError } from '../../../src/errors.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-shard-'));
before(async () => { await generateOvdMnist({ out: dir, seed: 3, train: 16, val: 1, poolLimit: 20 }); });

async function batches(cfg: DataConfig, n: number, shard?: { rank: number; world: number }): Promise<Batch[]> {
  const loader = await createMixedLoader(cfg, { seed: 5, shard });
  try {
    const out: Batch[] = [];
    for (let i = 0; i < n; i++) out.push(await loader.next());
    return out;
  } finally {
    await loader.close();
  }
}

test('in-memory sources: the ranks\' slices concatenate to the one-process batch, iteration by iteration', async () => {
  const cfg = ovdMnistDataConfig(dir, { batchSize: 3, pairsBatchSize: 5 });
  const one = await batches(cfg, 8);
  const ranks = await Promise.all([0, 1].map((rank) => batches(cfg, 8, { rank, world: 2 })));
  one.forEach((b, i) => {
    const [r0, r1] = [ranks[0]![i]!, ranks[1]![i]!];
    assert.deepEqual([r0.kind, r1.kind, r0.iteration, r1.iteration], [b.kind, b.kind, i, i]);
    assert.deepEqual([...r0.records, ...r1.records], b.records); // 3 -> 1 + 2, 5 -> 2 + 3
    assert.deepEqual([r0.records.length, r1.records.length], b.kind === 'imageText' ? [2, 3] : [1, 2]);
    assert.deepEqual([...r0.pixels, ...r1.pixels].length, b.pixels.length);
  });
  assert.ok(new Set(one.map((b) => b.kind)).size >= 2);
  await assert.rejects(() => batches(cfg, 1, { rank: 0, world: 4 }), (e: unknown) => e instanceof UserError && /batch size 3 is smaller than the 4 processes/.test(e.message));
});

test('WebDataset: shard i goes to rank i mod world; too few shards is an error naming the source', async () => {
  const wds = path.join(dir, 'wds');
  fs.mkdirSync(wds);
  const pairs = fs.readFileSync(path.join(dir, 'pairs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { image: string; caption: string });
  const key = (i: number): string => String(i).padStart(4, '0');
  pairs.forEach((p, i) => {
    fs.copyFileSync(path.join(dir, p.image), path.join(wds, `${key(i)}.png`));
    fs.writeFileSync(path.join(wds, `${key(i)}.txt`), p.caption);
  });
  const half = Math.floor(pairs.length / 2);
  const members = (from: number, to: number): string[] => pairs.slice(from, to).flatMap((_, j) => [`${key(from + j)}.png`, `${key(from + j)}.txt`]);
  execFileSync('tar', ['-cf', path.join(wds, 'shard-0.tar'), '-C', wds, ...members(0, half)]);
  execFileSync('tar', ['-cf', path.join(wds, 'shard-1.tar'), '-C', wds, ...members(half, pairs.length)]);
  const cfg = (file: string): DataConfig => parseDataConfig({
    sources: [{ kind: 'imageText', format: 'wds', file: path.join(wds, file), shuffleBuffer: 2 }],
    imageText: { batchSize: 4, resize: { mode: 'square', size: 64 } },
  }, 'test');
  for (const rank of [0, 1]) {
    const records = (await batches(cfg('shard-{0..1}.tar'), 3, { rank, world: 2 })).flatMap((b) => b.records);
    assert.equal(records.length, 6);
    assert.ok(records.every((r) => r.includes(`shard-${rank}.tar#`)), records.join());
  }
  await assert.rejects(() => batches(cfg('shard-0.tar'), 1, { rank: 1, world: 2 }),
    (e: unknown) => e instanceof UserError && /shard-0\.tar: 1 shard\(s\) for 2 processes: rank 1 gets none/.test(e.message));
});
