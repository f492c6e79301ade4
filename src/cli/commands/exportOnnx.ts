// `detclip export-onnx --weights DIR --out DIR`: image.onnx + text.onnx + manifest.json for onnxruntime, validated
// against the tfjs model before the output directory appears (see src/onnx/exportOnnx.ts).
import type { Command } from 'commander';
import { globalOpts, startBackend } from '../userError.ts';

interface ExportOnnxCliOpts { weights: string; out: string; quiet?: boolean }

export function registerExportOnnx(program: Command): void {
  program.command('export-onnx')
    .description('export a model directory to ONNX (image.onnx, text.onnx, manifest.json), checked with onnxruntime')
    .requiredOption('--weights <dir>', 'model directory (config.json + model.safetensors)')
    .requiredOption('--out <dir>', 'output directory (created; an earlier export there is replaced)')
    .option('--quiet', 'no summary line')
    .action(async (o: ExportOnnxCliOpts, cmd: Command) => {
      await startBackend(cmd);
      const { exportOnnx } = await import('../../onnx/exportOnnx.ts');
      const t0 = performance.now();
      const threads = globalOpts(cmd).threads;
      const m = await exportOnnx(o.weights, o.out, { threads: threads === undefined ? undefined : Number(threads) });
      if (!o.quiet) {
        const mb = (b: number): string => (b / 1e6).toFixed(1);
        const worst = Math.max(...Object.values(m.validation));
        process.stderr.write(`exported ${o.weights} -> ${o.out}: image.onnx ${mb(m.files.image.bytes)} MB, text.onnx ${mb(m.files.text.bytes)} MB, ` +
          `opset ${m.opset}, onnxruntime ${m.onnxruntime} max |onnx - tfjs| ${worst.toExponential(1)} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
    });
}
