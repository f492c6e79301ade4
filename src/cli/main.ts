// The `detclip` command line. Each sub-command lives in its own file under commands/.
import { Command, CommanderError } from 'commander';
import { registerEvalJson } from './commands/evalJson.ts';
import { registerData } from './commands/data.ts';
import { registerEmbedText } from './commands/embedText.ts';
import { registerModel } from './commands/model.ts';
import { registerTrain } from './commands/train.ts';
import { registerDemo } from './commands/demo.ts';
import { registerEval } from './commands/eval.ts';
import { registerAblate } from './commands/ablate.ts';
import { registerDetect } from './commands/detect.ts';
import { registerEnv } from './commands/env.ts';
import { registerExportOnnx } from './commands/exportOnnx.ts';
import { DetclipError } from '../errors.ts';

export function buildProgram(): Command {
  const program = new Command('detclip')
    .description('DetCLIPv2: open-vocabulary object detection by word-region alignment (TF.js)')
    .option('--backend <name>', 'engine: torch (native libtorch; the default when built), wasm, cpu, tensorflow, webgpu; or DETCLIP_BACKEND')
    .option('--threads <n>', 'native engine threads (default: every core; or DETCLIP_THREADS)')
    .showHelpAfterError();
  for (const register of [
    registerDemo, registerTrain, registerEval, registerEvalJson, registerDetect,
    registerData, registerEmbedText, registerModel, registerAblate, registerEnv, registerExportOnnx,
  ]) register(program);
  return program;
}

/** Runs the CLI; user-facing errors become one line on stderr and exit code 1. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`detclip: error: ${msg.split('\n')[0]}\n`);
    if (!(err instanceof DetclipError) && process.env.DETCLIP_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  }
}
