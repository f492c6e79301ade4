// The fixed-seed slice of the fuzz targets `npm run fuzz` runs (bench/fuzz/targets.ts): each target's property
// over `testRuns` generated inputs. A failure prints the input and the command that replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { expectClean, runTarget, type FuzzTarget } from '../../bench/fuzz/harness.ts';
import { UserError } from '../../src/errors.ts';
import { TARGETS } from '../../bench/fuzz/targets.ts';

const SEED = 20261207;

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${t.about}`, async () => {
    const r = await runTarget(t, { seed: SEED, numRuns: t.testRuns });
    const f = r.failure;
    assert.equal(f, undefined, f && `${f.kind}: ${f.message}\n  input: ${f.counterexample}\n  replay: npm run fuzz -- --target ${t.name} --seed ${f.seed} --path ${f.path}`);
    assert.equal(r.inputs, t.testRuns);
  });
}

test('the harness reports an escaped exception as a crash and a slow input as a hang', async () => {
  const base = { about: 'harness self-check', testRuns: 50, setup: async () => undefined, arbitrary: () => fc.nat(100) };
  const crashing: FuzzTarget<undefined, number> = {
    ...base, name: 'self-crash', boundMs: 1000,
    async run(_c, n) { await expectClean(['/x/data.json'], () => { if (n > 50) JSON.parse('{'); }); },
  };
  const c = await runTarget(crashing, { seed: 1, numRuns: 200 });
  assert.equal(c.failure?.kind, 'crash');
  assert.match(c.failure!.message, /escaped SyntaxError/);
  const slow: FuzzTarget<undefined, number> = {
    ...base, name: 'self-hang', boundMs: 30,
    async run(_c, n) { if (n > 50) await new Promise((r) => setTimeout(r, 200)); },
  };
  const h = await runTarget(slow, { seed: 1, numRuns: 200 });
  assert.equal(h.failure?.kind, 'hang');
  // an error of detclip's own that does not name the file is a failure too
  const unnamed: FuzzTarget<undefined, number> = {
    ...base, name: 'self-unnamed', boundMs: 1000,
    async run(_c, n) { await expectClean(['/x/data.json'], () => { if (n > 50) throw new UserError('bad record'); }); },
  };
  const u = await runTarget(unnamed, { seed: 1, numRuns: 200 });
  assert.match(u.failure?.message ?? '', /does not name data\.json/);
  // and the replay (seed + path) gives the same failing input
  const again = await runTarget(crashing, { seed: c.failure!.seed, path: c.failure!.path, numRuns: 1 });
  assert.equal(again.failure?.counterexample, c.failure!.counterexample);
});
