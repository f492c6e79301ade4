// `detclip train --preset NAME --data CONFIG.yaml --out DIR [key=value ...]`
import type { Command } from 'commander';
import { startBackend } from '../userError.ts';

interface TrainOpts { preset: string; data: string; out: string; config?: string; resume?: string; init?: string; workers: string; quiet?: boolean }

export function registerTrain(program: Command): void {
  program.command('train')
    .description('train DetCLIPv2 jointly on detection, grounding and image-text data')
    .requiredOption('--data <file>', 'data config (YAML): sources by kind, augmentation, concept dictionary')
    .requiredOption('--out <dir>', 'run directory: checkpoint/, metrics.jsonl, loss.png, model/')
    .option('--preset <name>', 'model preset: tiny, r50, swin-t (t), swin-l (l)', 'tiny')
    .option('--config <file>', 'training config (YAML/JSON, any subset of the preset)')
    .option('--resume <dir>', 'continue from a checkpoint directory (e.g. RUN/checkpoint)')
    .option('--init <dir>', 'start from a trained model directory (fine-tuning), e.g. runs/demo/model')
    .option('--workers <n>', 'image decoding worker threads', '1')
    .option('--quiet', 'no progress bar')
    .argument('[overrides...]', 'key=value overrides, e.g. train.steps=500 train.lr=1e-3 model.head.useDcn=false')
    .action(async (overrides: string[], o: TrainOpts, cmd: Command) => {
      const { resolveRecipe } = await import('../../train/recipe.ts');
      const { loadDataConfig } = await import('../../data/config.ts');
      const { trainDetClip } = await import('../../train/trainDetClip.ts');
      const recipe = resolveRecipe(o.preset, overrides, o.config);
      const data = loadDataConfig(o.data);
      await startBackend(cmd);
      const log = (line: string): void => { process.stderr.write(`${line}\n`); };
      // Ctrl-C: finish the current step, write a checkpoint, exit; a second Ctrl-C exits at once.
      const stop = new AbortController();
      process.once('SIGINT', () => { log('stopping after this step (Ctrl-C again to abort)'); stop.abort(); process.once('SIGINT', () => process.exit(130)); });
      const r = await trainDetClip({ signal: stop.signal,
        model: recipe.model, train: recipe.train, data, outDir: o.out, resume: o.resume, init: o.init,
        workers: Number(o.workers), quiet: o.quiet, log,
      });
      r.model.dispose();
      process.stdout.write(`${JSON.stringify({ steps: r.step, seconds: +r.seconds.toFixed(1), model: r.modelDir, checkpoint: r.checkpointDir, metrics: r.metricsFile, lastLosses: r.lastLosses })}\n`);
    });
}
