// `detclip train --nproc-per-node N`: the launcher's child specs, a 2-process run through the CLI, and a rank
// killed mid-run (the survivor exits within the timeout with one line naming it).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setupBackend } from '../../helpers/tf.ts';
import { generateOvdMnist } from '../../../src/data/synth/ovdMnist.ts';
import { launchSpecs, stripLaunchFlags } from '../../../src/train/distributed/launch.ts';
import { UserError } from '../../../src/errors.ts';
import { distSkipReason, freePort } from './ranks.ts';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cliEntry.ts');
const skip = distSkipReason();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-launch-'));
const dataYaml = path.join(tmp, 'data', 'data.yaml');
const SMALL = ['model.text.width=16', 'model.text.heads=2', 'model.text.layers=1', 'model.text.outputDim=16', 'model.head.embedDim=16',
  'model.fpn.outChannels=16', 'model.head.gnGroups=4', 'model.head.towerConvs=1', 'imageText.k=4'];

before(async () => {
  await setupBackend();
  await generateOvdMnist({ out: path.join(tmp, 'data'), seed: 5, train: 20, val: 2, poolLimit: 20 });
  const kind = (size: number): string => `{ batchSize: 4, resize: { mode: square, size: ${size} }, flipProb: 0 }`;
  fs.writeFileSync(dataYaml, ['sources:', '  - { kind: detection, format: coco, file: detection.json }',
    '  - { kind: grounding, format: odvg, file: grounding.jsonl }', '  - { kind: imageText, format: pairs, file: pairs.jsonl }',
    `detection: ${kind(128)}`, `grounding: ${kind(128)}`, `imageText: ${kind(64)}`, 'conceptDictionary: concepts.json', ''].join('\n'));
});

test('launch specs: torchrun variables per rank, launch flags removed, threads = cores / processes', () => {
  const argv = ['train', '--nproc-per-node', '2', '--data', 'd.yaml', '--nnodes=2', '--node-rank', '1', '--master-addr', 'h', '--master-port=1234', 'x=1'];
  assert.deepEqual(stripLaunchFlags(argv), ['train', '--data', 'd.yaml', 'x=1']);
  const specs = launchSpecs({ nprocPerNode: 2, nnodes: 2, nodeRank: 1, masterAddr: 'h', masterPort: 1234 }, argv, 8, {});
  assert.deepEqual(specs.map((s) => [s.rank, s.localRank, s.env.RANK, s.env.WORLD_SIZE, s.env.LOCAL_WORLD_SIZE, s.env.MASTER_ADDR, s.env.MASTER_PORT, s.env.DETCLIP_THREADS]),
    [[2, 0, '2', '4', '2', 'h', '1234', '4'], [3, 1, '3', '4', '2', 'h', '1234', '4']]);
  assert.equal(launchSpecs({ nprocPerNode: 3, nnodes: 1, nodeRank: 0, masterAddr: 'h', masterPort: 1 }, [], 2, {})[0]!.env.DETCLIP_THREADS, '1');
  assert.equal(launchSpecs({ nprocPerNode: 2, nnodes: 1, nodeRank: 0, masterAddr: 'h', masterPort: 1 }, [], 8, { DETCLIP_THREADS: '3' })[1]!.env.DETCLIP_THREADS, '3');
  assert.throws(() => launchSpecs({ nprocPerNode: 2, nnodes: 2, nodeRank: 2, masterAddr: 'h', masterPort: 1 }, [], 2, {}), (e: unknown) => e instanceof UserError && /--node-rank 2 must be below --nnodes 2/.test(e.message));
  assert.throws(() => launchSpecs({ nprocPerNode: 0, nnodes: 1, nodeRank: 0, masterAddr: 'h', masterPort: 1 }, [], 2, {}), /--nproc-per-node must be an integer >= 1/);
  assert.throws(() => launchSpecs({ nprocPerNode: 1, nnodes: 1, nodeRank: 0, masterAddr: 'h', masterPort: 70000 }, [], 2, {}), /--master-port/);
});

interface Run { code: number | null; stdout: string; stderr: string; seconds: number; pid: number }

async function cli(args: string[], opts: { timeoutMs: number; whileRunning?: (pid: number) => Promise<void>; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, DETCLIP_DIST_TIMEOUT: '20' };
  for (const k of ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'DETCLIP_THREADS']) delete env[k];
  Object.assign(env, opts.env);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d; });
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  if (opts.whileRunning) await opts.whileRunning(child.pid!);
  const code = await closed;
  clearTimeout(timer);
  return { code, stdout, stderr, seconds: (performance.now() - t0) / 1000, pid: child.pid! };
}

/** The pid of the launcher's child that runs as `rank` (its RANK in /proc/PID/environ). */
function rankPid(launcher: number, rank: number): number | undefined {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== launcher) continue;
      if (fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) return Number(d);
    } catch { /* gone */ }
  }
  return undefined;
}

test('detclip train --nproc-per-node 2: one run, rank 0 prints the result and writes the files', { skip, timeout: 120_000 }, async () => {
  const out = path.join(tmp, 'run2');
  const r = await cli(['train', '--data', dataYaml, '--out', out, '--quiet', '--workers', '0', '--nproc-per-node', '2', '--master-port', String(await freePort()), 'train.steps=3', ...SMALL], { timeoutMs: 100_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  const res = JSON.parse(lines[0]!) as { steps: number; processes: number };
  assert.equal(res.steps, 3);
  assert.equal(res.processes, 2);
  assert.equal(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 3);
});

test('a rank killed mid-run: the survivor exits within the timeout with one line naming it', { skip, timeout: 120_000 }, async () => {
  const out = path.join(tmp, 'killed');
  const metrics = path.join(out, 'metrics.jsonl');
  let killedAt = 0;
  const r = await cli(['train', '--data', dataYaml, '--out', out, '--quiet', '--workers', '0', '--nproc-per-node', '2', '--master-port', String(await freePort()), 'train.steps=500', ...SMALL], {
    timeoutMs: 100_000,
    whileRunning: async (launcher) => {
      const deadline = Date.now() + 80_000;
      while (Date.now() < deadline && !(fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').split('\n').length > 2)) await new Promise((res) => setTimeout(res, 100));
      const pid = rankPid(launcher, 1);
      assert.ok(pid, 'rank 1 is running');
      process.kill(pid, 'SIGKILL');
      killedAt = performance.now();
    },
  });
  const after = (performance.now() - killedAt) / 1000;
  assert.notEqual(r.code, 0);
  assert.ok(after < 20, `the run ended ${after.toFixed(1)} s after the kill`);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('detclip: error:'));
  const survivor = errors.filter((l) => l.startsWith('detclip: error: rank 0:'));
  assert.equal(survivor.length, 1, r.stderr);
  assert.match(survivor[0]!, /rank 1 stopped responding/);
  assert.ok(errors.some((l) => /rank 1 exited with code 137/.test(l)), r.stderr);
});

test('a rank without the native module (started by an outer launcher) stops with one line saying so', { timeout: 60_000 }, async () => {
  const r = await cli(['train', '--data', dataYaml, '--out', path.join(tmp, 'nomodule'), '--quiet', 'train.steps=1', ...SMALL], {
    timeoutMs: 50_000, env: { DETCLIP_TORCH_ADDON: path.join(tmp, 'missing.node'), RANK: '1', WORLD_SIZE: '2', MASTER_PORT: '1', DETCLIP_BACKEND: 'wasm' },
  });
  assert.equal(r.code, 1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('detclip: error:'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, /^detclip: error: distributed training needs the native module with c10d .*npm run build:native \(needs libtorch-dev and libgloo-dev\)$/);
  assert.ok(!fs.existsSync(path.join(tmp, 'nomodule')), 'nothing written');
});
