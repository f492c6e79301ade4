// `npm run fuzz`: every fuzz target (bench/fuzz/targets.ts, the same the test suite slices) for a time budget.
//   npm run fuzz [-- --seconds 120] [--seed S] [--target NAME[,NAME]] [--path P]
// The budget is split evenly over the targets. Each target runs seeded rounds (seed S, S+1, ...) until its share is
// spent; a round stops at its first failure, which is printed with the command that replays exactly that input.
// Ends with the line `fuzz targets=T inputs=N crashes=C hangs=H` (C/H: distinct failures: by throw site or message
// shape) and exits 1 on any.
import { runTarget, type TargetResult } from './fuzz/harness.ts';
import { TARGETS } from './fuzz/targets.ts';

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(arg('--seconds') ?? 120);
const baseSeed = Number(arg('--seed') ?? Date.now() % 2 ** 31);
const only = arg('--target')?.split(',');
const replayPath = arg('--path');
if (!(seconds > 0) || !Number.isInteger(baseSeed)) {
  process.stderr.write('fuzz: --seconds must be positive and --seed an integer\n');
  process.exit(2);
}
const targets = only ? TARGETS.filter((t) => only.includes(t.name)) : TARGETS;
if (targets.length === 0) {
  process.stderr.write(`fuzz: no target named ${only!.join(', ')} (targets: ${TARGETS.map((t) => t.name).join(', ')})\n`);
  process.exit(2);
}

let inputs = 0;
const failures = new Map<string, TargetResult['failure'] & { target: string }>();

console.log(`fuzz: ${targets.length} targets, ${seconds} s, seed ${baseSeed}`);
for (const [ti, t] of targets.entries()) {
  const share = (seconds * 1000) / targets.length;
  const end = performance.now() + share;
  let n = 0;
  let rounds = 0;
  // Round k of target i uses seed S + 1000 i + k; a replay (--path) uses S itself.
  for (let seed = replayPath ? baseSeed : baseSeed + ti * 1000; ; seed++) {
    const left = end - performance.now();
    if (left < 50) break;
    const r = await runTarget(t, replayPath ? { seed, path: replayPath, numRuns: 1 } : { seed, timeLimitMs: left });
    n += r.inputs;
    rounds++;
    if (r.failure) {
      const sig = `${t.name}|${r.failure.signature}`; // one bug hit twice counts once
      const replay = `npm run fuzz -- --target ${t.name} --seed ${r.failure.seed} --path ${r.failure.path} --seconds 5`;
      if (!failures.has(sig)) {
        failures.set(sig, { ...r.failure, target: t.name });
        console.log(`  ${r.failure.kind.toUpperCase()} ${t.name}: ${r.failure.message}\n    input: ${r.failure.counterexample}\n    replay: ${replay}`);
      }
    }
    if (replayPath || (!r.failure && r.inputs === 0)) break;
  }
  inputs += n;
  console.log(`  ${t.name.padEnd(13)} inputs=${n} rounds=${rounds} (${t.about})`);
}
const list = [...failures.values()];
const crashes = list.filter((f) => f.kind === 'crash').length;
const hangs = list.filter((f) => f.kind === 'hang').length;
console.log(`fuzz targets=${targets.length} inputs=${inputs} crashes=${crashes} hangs=${hangs}`);
process.exitCode = crashes + hangs > 0 ? 1 : 0;
