// Collectives across 2 processes on loopback (c10d TCPStore + Gloo through the native module).
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProcessGroup, processGroupOptionsFromEnv } from '../../../src/train/distributed/processGroup.ts';
import { UserError } from '../../../src/errors.ts';
import { distSkipReason, freePort, runRanks } from './ranks.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'collectivesChild.ts');
const skip = distSkipReason();
const lastJson = (s: string): Record<string, unknown> => JSON.parse(s.trim().split('\n').at(-1)!) as Record<string, unknown>;

test('allreduce (sum, max; bucketed and in place), broadcast, allgather across 2 processes', { skip, timeout: 60_000 }, async () => {
  const res = await runRanks(CHILD, ['collectives'], 2, { timeoutMs: 45_000 });
  for (const r of res) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
  const out = res.map((r) => lastJson(r.stdout));
  for (const o of out) {
    assert.deepEqual(o.small, [[3, -1, 1], [], [10]]);
    assert.deepEqual(o.bigHead, [0, 3, 6, 9, 12, 15, 18, 0]);
    assert.equal(o.bigTail, (599_999 % 7) * 3);
    assert.deepEqual(o.max, [1, 0]);
    assert.deepEqual(o.bc, [[1, 2, 7], [1.25, 1.25, 1.25, 1.25, 1.25]]);
    assert.deepEqual(o.gathered, [{ rank: 0, text: 'é' }, { rank: 1, text: 'éé' }]);
    assert.deepEqual(o.fromRoot, { hello: [1, 2, 3] });
  }
});

test('tensor helpers on 2 processes: rank 0\'s parameters and moments everywhere, gradients summed, score rows gathered, no leaks', { skip, timeout: 60_000 }, async () => {
  const res = await runRanks(CHILD, ['tensors'], 2, { timeoutMs: 45_000 });
  for (const r of res) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
  const out = res.map((r) => lastJson(r.stdout));
  const w0 = 1 - 0.1 * 0.05 - 0.1; // rank 0's one AdamW step on b.w (decay 0.05, then lr·sign)
  for (const o of out) {
    const p = o.params as Record<string, number[]>;
    assert.deepEqual(p['a.bias'], [0, 0]); // rank 0's [0, -0] (JSON has no -0)
    assert.deepEqual(p.stat, [1]);
    for (const v of p['b.w']!) assert.ok(Math.abs(v - w0) < 1e-6, `b.w ${v}`);
    assert.deepEqual(o.moments, { step: 1, names: ['b.w'], m: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1].map(Math.fround) });
    assert.deepEqual(o.summed, { 'a.bias': [2, 1], 'b.w': [2, 2, 2, 2, 2, 2] });
    assert.deepEqual(o.gathered, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(o.leaked, 0);
  }
  assert.deepEqual(out.map((o) => o.slotTensors), [0, 2]);
});

test('a killed rank makes the others fail within the timeout, naming it', { skip, timeout: 60_000 }, async () => {
  const res = await runRanks(CHILD, ['die'], 3, { timeoutMs: 45_000, env: { DETCLIP_DIST_TIMEOUT: '20' } });
  assert.equal(res[2]!.signal, 'SIGKILL');
  for (const r of res.slice(0, 2)) {
    assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
    const o = lastJson(r.stdout);
    assert.equal(o.name, 'DistributedError');
    assert.match(o.error as string, new RegExp(`^rank ${r.rank}: allreduce failed: rank 2 stopped responding`));
    assert.ok(r.seconds < 20, `rank ${r.rank} took ${r.seconds} s`);
  }
});

test('a rendezvous nobody hosts is one UserError naming the address and rank', { skip, timeout: 30_000 }, async () => {
  const port = await freePort();
  assert.throws(() => ProcessGroup.init({ rank: 1, worldSize: 2, masterPort: port, timeoutMs: 1500 }),
    (e: unknown) => e instanceof UserError && new RegExp(`^distributed: rendezvous at 127\\.0\\.0\\.1:${port} failed for rank 1 of 2`).test(e.message) && !e.message.includes('\n'));
});

test('environment variables: WORLD_SIZE unset or 1 is a single process; bad values are one UserError', () => {
  assert.equal(processGroupOptionsFromEnv({}), undefined);
  assert.equal(processGroupOptionsFromEnv({ WORLD_SIZE: '1', RANK: '0' }), undefined);
  assert.deepEqual(processGroupOptionsFromEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', MASTER_ADDR: 'h', MASTER_PORT: '1234', DETCLIP_DIST_TIMEOUT: '9' }),
    { rank: 3, worldSize: 4, localRank: 1, masterAddr: 'h', masterPort: 1234, timeoutMs: 9000, iface: undefined });
  assert.throws(() => processGroupOptionsFromEnv({ WORLD_SIZE: '2', RANK: '2' }), /RANK 2 is not below WORLD_SIZE 2/);
  assert.throws(() => processGroupOptionsFromEnv({ WORLD_SIZE: '2', RANK: 'x' }), (e: unknown) => e instanceof UserError && /RANK must be an integer/.test(e.message));
  assert.throws(() => processGroupOptionsFromEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '-1' }), /MASTER_PORT/);
});
