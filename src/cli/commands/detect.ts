// `detclip detect --weights DIR (--vocab "a,b" | --vocab-file F) INPUT...`: open-vocabulary detection on images
// and folders; a COCO-layout results JSON (written atomically at the end) and optional annotated PNGs.
import path from 'node:path';
import type { Command } from 'commander';
import { globalOpts, startBackend, UserError } from '../userError.ts';
import type { DetectedImage } from '../../infer/cocoResults.ts';
// The heavy modules (TF.js, sharp, WordNet) load inside the action, so `detclip --help` stays fast.

interface DetectCliOpts {
  weights: string; vocab?: string; vocabFile?: string; out?: string; saveVis?: string;
  scoreThreshold: string; maxDetections: string; nms: string; batchSize: string; enrich?: boolean; quiet?: boolean; engine: string;
}

function number(v: string, flag: string, ok: (n: number) => boolean, want: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UserError(`${flag} must be ${want}, got '${v}'`);
  return n;
}

export function registerDetect(program: Command): void {
  program.command('detect')
    .description('detect the objects named by a vocabulary in images or folders; COCO-style results JSON, annotated PNGs')
    .argument('<input...>', 'image files and/or folders (searched recursively for .png .jpg .jpeg .webp ...)')
    .requiredOption('--weights <dir>', 'model directory (config.json + model.safetensors); with --engine onnx an export-onnx directory')
    .option('--engine <name>', 'tfjs (the TF.js model) or onnx (image.onnx + text.onnx on onnxruntime, CPU)', 'tfjs')
    .option('--vocab <list>', 'comma-separated words or phrases, e.g. "red umbrella,dog"')
    .option('--vocab-file <file>', 'one phrase per line, a JSON list of phrases, or COCO categories (JSON list of {id,name} or a COCO file)')
    .option('--out <file>', 'results JSON (default: printed to stdout)')
    .option('--save-vis <dir>', 'also write <image>.png with boxes, labels and scores drawn')
    .option('--score-threshold <t>', 'minimum class probability', '0.3')
    .option('--max-detections <n>', 'per image', '100')
    .option('--nms <iou>', 'class-wise NMS IoU threshold (1 = off)', '0.6')
    .option('--batch-size <n>', 'images per forward pass (same-size images)', '8')
    .option('--no-enrich', 'use the phrases as they are, without WordNet definitions')
    .option('--quiet', 'no progress bar')
    .action(async (inputs: string[], o: DetectCliOpts, cmd: Command) => {
      const scoreThreshold = number(o.scoreThreshold, '--score-threshold', (n) => n >= 0 && n < 1, 'a number in [0, 1)');
      const maxDetections = number(o.maxDetections, '--max-detections', (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
      const nms = number(o.nms, '--nms', (n) => n >= 0 && n <= 1, 'an IoU in [0, 1]');
      const batchSize = number(o.batchSize, '--batch-size', (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
      if (o.engine !== 'tfjs' && o.engine !== 'onnx') throw new UserError(`--engine must be tfjs or onnx, got '${o.engine}'`);
      if (o.vocab !== undefined && o.vocabFile !== undefined) throw new UserError('give --vocab or --vocab-file, not both');
      if (o.vocab === undefined && o.vocabFile === undefined) throw new UserError('no vocabulary: give --vocab "a,b,c" or --vocab-file FILE');

      const { vocabularyFromFile, vocabularyFromList } = await import('../../infer/vocabulary.ts');
      const { listImageInputs, visFileNames } = await import('../../infer/imageFiles.ts');
      const vocab = o.vocab !== undefined ? vocabularyFromList(o.vocab) : vocabularyFromFile(o.vocabFile!);
      const { files, fromFolders } = listImageInputs(inputs);

      const { createDetector } = await import('../../infer/detector.ts');
      const { saveVisualization } = await import('../../infer/visualize.ts');
      const { cocoDetectResults } = await import('../../infer/cocoResults.ts');
      const { atomicWriteFileSync } = await import('../../io/atomicWrite.ts');
      await startBackend(cmd);
      const threads = globalOpts(cmd).threads;
      const det = await createDetector({
        weights: o.weights, engine: o.engine, backend: globalOpts(cmd).backend, enrich: o.enrich === false ? false : undefined,
        ...(o.engine === 'onnx' && threads !== undefined ? { threads: Number(threads) } : {}),
      });
      // Every image is detected before anything is written: an unreadable image stops the run with no output.
      const bar = await progressBar(files.length, fromFolders && !o.quiet);
      try {
        det.setVocabulary(vocab);
        const done: DetectedImage[] = [];
        const t0 = performance.now();
        for (let s = 0; s < files.length; s += batchSize) {
          const part = files.slice(s, s + batchSize);
          const res = await det.detectBatchDetailed(part, { scoreThreshold, maxDetections, nms, batchSize });
          part.forEach((file, j) => done.push({ file, ...res[j]! }));
          bar?.update(done.length);
        }
        if (o.saveVis) {
          const names = visFileNames(files);
          bar?.phase('drawing');
          for (let i = 0; i < done.length; i++) {
            await saveVisualization(done[i]!.file, done[i]!.detections, path.join(o.saveVis, names[i]!));
            bar?.update(i + 1);
          }
        }
        bar?.stop();
        const results = cocoDetectResults(done, vocab, {
          weights: o.weights, score_threshold: scoreThreshold, max_detections: maxDetections, nms, enrich: det.settings.enrich,
        });
        const json = JSON.stringify(results);
        if (o.out) atomicWriteFileSync(o.out, json + '\n');
        else process.stdout.write(json + '\n');
        const secs = (performance.now() - t0) / 1000;
        process.stderr.write(`detected ${results.annotations.length} objects in ${files.length} image${files.length === 1 ? '' : 's'} ` +
          `(${secs.toFixed(1)} s, ${vocab.length} concepts)${o.out ? `; results: ${o.out}` : ''}${o.saveVis ? `; pictures: ${o.saveVis}` : ''}\n`);
      } finally {
        bar?.stop();
        det.dispose();
      }
    });
}

/** A cli-progress bar on stderr when it is a terminal and there is more than one image; phases restart it. */
async function progressBar(total: number, wanted: boolean): Promise<{ update(n: number): void; phase(name: string): void; stop(): void } | null> {
  if (!wanted || !process.stderr.isTTY || total < 2) return null;
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({
    format: '{phase} [{bar}] {value}/{total} images | {eta_formatted} left', stream: process.stderr, hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, { phase: 'detecting' });
  let stopped = false;
  return {
    update: (n) => bar.update(n),
    phase: (name) => { bar.stop(); bar.start(total, 0, { phase: name.padEnd(9) }); },
    stop: () => { if (!stopped) { stopped = true; bar.stop(); } },
  };
}
