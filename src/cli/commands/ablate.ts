// `detclip ablate`: the paper's ablations at mini scale -> docs/ablations.md.
import type { Command } from 'commander';
import { startBackend } from '../userError.ts';

export function registerAblate(program: Command): void {
  program.command('ablate')
    .description("train the demo recipe with one change at a time (the paper's ablations) and write a markdown table")
    .option('--steps <n>', 'training steps per variant', '600')
    .option('--data <dir>', 'OVD-MNIST folder (created if absent)', 'data/ovd-mnist')
    .option('--out <dir>', 'scratch folder for the runs', 'runs/ablate')
    .option('--doc <file>', 'markdown output', 'docs/ablations.md')
    .option('--eval-images <n>', 'val images to score (default all)')
    .option('--only <names>', 'comma-separated variant names')
    .argument('[overrides...]', 'key=value overrides applied to every variant')
    .action(async (extra: string[], o: { steps: string; data: string; out: string; doc: string; evalImages?: string; only?: string }, cmd: Command) => {
      await startBackend(cmd);
      const { runAblations } = await import('../../train/ablate.ts');
      await runAblations({ log: (l: string) => { process.stderr.write(`${l}\n`); },
        steps: Number(o.steps), dataDir: o.data, outDir: o.out, doc: o.doc, extra,
        evalImages: o.evalImages ? Number(o.evalImages) : undefined, only: o.only?.split(',').map((s) => s.trim()),
      });
      process.stdout.write(`wrote ${o.doc}\n`);
    });
}
