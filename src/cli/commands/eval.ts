// `detclip eval --weights DIR --data COCO.json [--protocol coco|lvis|lvis-fixed]`: detect on the dataset's
// images with its categories as the vocabulary; prints JSON metrics (plus base/novel when categories carry split).
import type { Command } from 'commander';
import { globalOpts, startBackend, UserError } from '../userError.ts';

interface EvalOpts { weights: string; data: string; protocol: string; images?: string; limit?: string; out?: string }

export function registerEval(program: Command): void {
  program.command('eval')
    .description('evaluate a trained model on a COCO/LVIS-format dataset (its categories are the vocabulary)')
    .requiredOption('--weights <dir>', 'model directory (config.json + model.safetensors)')
    .requiredOption('--data <file>', 'ground truth in COCO/LVIS JSON with image file names')
    .option('--protocol <p>', 'coco | lvis | lvis-fixed', 'coco')
    .option('--images <dir>', "image folder (default: the annotation file's folder)")
    .option('--limit <n>', 'evaluate the first n images only')
    .option('--out <file>', 'also write the detections (COCO results JSON)')
    .action(async (o: EvalOpts, cmd: Command) => {
      if (!['coco', 'lvis', 'lvis-fixed'].includes(o.protocol)) throw new UserError(`--protocol must be coco, lvis or lvis-fixed, got '${o.protocol}'`);
      const { createDetector } = await import('../../infer/detector.ts');
      const { evaluateDetector } = await import('../../eval/evaluateDetector.ts');
      const { atomicWriteFileSync } = await import('../../io/atomicWrite.ts');
      await startBackend(cmd);
      const det = await createDetector({ weights: o.weights, backend: globalOpts(cmd).backend });
      try {
        const r = await evaluateDetector(det, o.data, {
          protocol: o.protocol as 'coco', imagesDir: o.images, limit: o.limit ? Number(o.limit) : undefined,
        });
        if (o.out) atomicWriteFileSync(o.out, JSON.stringify(r.results));
        const { results: _r, ...summary } = r;
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        det.dispose();
      }
    });
}
