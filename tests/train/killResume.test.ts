// SIGKILL a training run at random moments (many inside checkpoint writes), resume it each time: the checkpoint on
// disk always loads, never goes back in steps, and the finished run's loss curve equals an uninterrupted run's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { readMetrics, type TrainRecord } from '../../src/train/metricsLog.ts';

const CHILD = fileURLToPath(new URL('../helpers/killResumeChild.ts', import.meta.url));
const STEPS = 400;
const KILLS = 20;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-kill-'));

function start(out: string): { child: ChildProcess; started: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, out, String(STEPS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const started = new Promise<void>((resolve) => child.stdout!.on('data', (d) => { if (String(d).includes('started')) resolve(); }));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(stderr);
    resolve(code);
  }));
  return { child, started: Promise.race([started, exited.then(() => undefined)]), exited };
}

const curve = (out: string): [number, number][] =>
  readMetrics(path.join(out, 'metrics.jsonl')).filter((r): r is TrainRecord => r.kind !== 'eval').map((r) => [r.step, r.loss]);

test(`${KILLS} SIGKILLs during training and checkpoint writes: always loadable, resumed curve == uninterrupted`, { timeout: 300_000 }, async () => {
  const ref = path.join(tmp, 'ref');
  assert.equal(await start(ref).exited, 0);
  const want = curve(ref);
  assert.equal(want.length, STEPS);

  const out = path.join(tmp, 'killed');
  const ckpt = path.join(out, 'checkpoint');
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  let lastStep = 0;
  let kills = 0;
  let insideSave = 0;
  let finished = false;
  while (!finished) {
    const run = start(out);
    await run.started;
    if (kills < KILLS) {
      await new Promise((r) => setTimeout(r, rand() * 900));
      run.child.kill('SIGKILL');
    }
    const code = await run.exited;
    if (code === 0) { finished = true; break; }
    kills++;
    // an interrupted save leaves DIR.tmp-<pid> / DIR.old-<pid> next to the checkpoint
    if (fs.readdirSync(out).some((n) => /^checkpoint\.(tmp|old)-\d+$/.test(n))) insideSave++;
    if (lastStep > 0 || fs.existsSync(ckpt)) {
      const c = loadCheckpoint(ckpt); // never throws: a checkpoint (or its complete leftover) is always there
      assert.ok(c.state.step >= lastStep, `kill ${kills}: the checkpoint went back from step ${lastStep} to ${c.state.step}`);
      lastStep = c.state.step;
    }
  }
  assert.ok(kills >= KILLS, `${kills} kills`);
  assert.ok(insideSave >= 3, `only ${insideSave} of ${kills} kills landed inside a checkpoint write`);
  assert.deepEqual(curve(out), want, 'resumed loss curve equals the uninterrupted one');
  assert.deepEqual(fs.readdirSync(out).filter((n) => n.startsWith('checkpoint.')), [], 'leftovers of dead processes deleted');
  console.log(`# kills=${kills} inside_save=${insideSave} final_step=${STEPS}`);
});
