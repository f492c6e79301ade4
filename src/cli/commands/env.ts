// `detclip env`: which engine runs, with how many threads, on which BLAS; and why the native one is missing.
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { NATIVE_KERNELS, torchBackendUnavailableReason, torchInfo } from '../../backend/torch/index.ts';
import { startBackend } from '../userError.ts';

export function registerEnv(program: Command): void {
  program.command('env')
    .description('print the engine in use (torch or wasm), its threads, BLAS and build facts')
    .action(async (_o: unknown, cmd: Command) => {
      const name = await startBackend(cmd);
      const lines = [`engine: ${name}`, `node: ${process.version}`, `cores: ${os.availableParallelism()}`, `tfjs: ${tf.version.tfjs}`];
      const t = name === 'torch' ? torchInfo() : null;
      if (t) {
        lines.push(`libtorch: ${t.torch}`, `threads: ${t.threads}`, `blas: ${t.blas}`, `onednn: ${t.mkldnn}`, `allocator: ${t.allocator}`);
        const fallback = tf.getKernelsForBackend('torch').filter((k) => !NATIVE_KERNELS.has(k.kernelName)).length;
        lines.push(`kernels: ${NATIVE_KERNELS.size} native, ${fallback} through wasm`);
      } else {
        lines.push('threads: 1 (wasm SIMD)');
        if (torchBackendUnavailableReason()) lines.push(`native engine: ${torchBackendUnavailableReason()}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
