// `detclip demo [--quick]` (= `npm run demo`): the main job on the built-in OVD-MNIST benchmark.
import type { Command } from 'commander';
import { startBackend } from '../userError.ts';

export function registerDemo(program: Command): void {
  program.command('demo')
    .description('synthesise OVD-MNIST, train the tiny DetCLIPv2 jointly, evaluate base/novel AP (about 10 min on 2 cores)')
    .option('--quick', 'a one-minute smoke run (tiny data, a few steps)')
    .option('--data <dir>', 'OVD-MNIST folder (created if absent)')
    .option('--out <dir>', 'run folder (default runs/demo)')
    .option('--quiet', 'no progress bar')
    .option('--enrich', 'detection concepts as "name, definition" (WordNet) instead of bare names')
    .argument('[overrides...]', 'key=value overrides, as for `detclip train`')
    .action(async (overrides: string[], o: { quick?: boolean; data?: string; out?: string; quiet?: boolean; enrich?: boolean }, cmd: Command) => {
      // The tiny model's ops are too small for intra-op threads: one thread, the other core runs the loaders.
      await startBackend(cmd, 1);
      const { runDemo, formatDemoTable } = await import('../../train/demo.ts');
      const r = await runDemo({ log: (l: string) => { process.stderr.write(`${l}\n`); }, quick: o.quick, dataDir: o.data, out: o.out, overrides, quiet: o.quiet, enrich: o.enrich });
      process.stdout.write(`${formatDemoTable(r)}\n`);
    });
}
