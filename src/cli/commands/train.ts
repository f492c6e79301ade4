// `detclip train --preset NAME --data CONFIG.yaml --out DIR [key=value ...]`
// `... --nproc-per-node N [--nnodes M --node-rank R --master-addr HOST --master-port P]`: data-parallel, N processes
// here (each then runs as one rank); a process started by an outer launcher (RANK, WORLD_SIZE, ...) joins as is.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Command } from 'commander';
import { startBackend } from '../userError.ts';

interface TrainOpts {
  preset: string; data: string; out: string; config?: string; resume?: string; init?: string; workers: string; quiet?: boolean;
  nprocPerNode?: string; nnodes: string; nodeRank: string; masterAddr: string; masterPort: string;
}

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
    .option('--nproc-per-node <n>', 'data-parallel: start N training processes on this machine (batch sizes stay global)')
    .option('--nnodes <m>', 'data-parallel: machines taking part', '1')
    .option('--node-rank <r>', 'data-parallel: this machine\'s index in [0, nnodes)', '0')
    .option('--master-addr <host>', 'data-parallel: address of the machine with rank 0', '127.0.0.1')
    .option('--master-port <port>', 'data-parallel: rendezvous port on that machine', '29500')
    .argument('[overrides...]', 'key=value overrides, e.g. train.steps=500 train.lr=1e-3 model.head.useDcn=false')
    .action(async (overrides: string[], o: TrainOpts, cmd: Command) => {
      if (o.nprocPerNode !== undefined) {
        await launch(o);
        return;
      }
      const { resolveRecipe } = await import('../../train/recipe.ts');
      const { loadDataConfig } = await import('../../data/config.ts');
      const { trainDetClip } = await import('../../train/trainDetClip.ts');
      const { DataParallel } = await import('../../train/distributed/dataParallel.ts');
      const recipe = resolveRecipe(o.preset, overrides, o.config);
      const data = loadDataConfig(o.data);
      const localProcs = Number(process.env.LOCAL_WORLD_SIZE ?? 1);
      await startBackend(cmd, process.env.WORLD_SIZE && localProcs > 1 ? Math.max(1, Math.floor(os.cpus().length / localProcs)) : undefined);
      const dist = DataParallel.fromEnv();
      const writer = !dist || dist.isWriter;
      const log = (line: string): void => { process.stderr.write(`${line}\n`); };
      // Ctrl-C: finish the current step, write a checkpoint, exit; a second Ctrl-C exits at once.
      const stop = new AbortController();
      process.once('SIGINT', () => {
        if (writer) log('stopping after this step (Ctrl-C again to abort)');
        stop.abort();
        process.once('SIGINT', () => process.exit(130));
      });
      try {
        const r = await trainDetClip({ signal: stop.signal,
          model: recipe.model, train: recipe.train, data, outDir: o.out, resume: o.resume, init: o.init,
          workers: Number(o.workers), quiet: o.quiet, log, dist,
        });
        r.model.dispose();
        if (writer) process.stdout.write(`${JSON.stringify({ steps: r.step, seconds: +r.seconds.toFixed(1), model: r.modelDir, checkpoint: r.checkpointDir, metrics: r.metricsFile, lastLosses: r.lastLosses, ...(dist ? { processes: dist.worldSize } : {}) })}\n`);
      } finally {
        dist?.pg.destroy();
      }
    });
}

const STOP_GRACE_MS = 15_000;

/** Starts the N local ranks (this same command without the launch flags) and waits; after a failure the rest get 15 s to stop. */
async function launch(o: TrainOpts): Promise<void> {
  const { launchSpecs } = await import('../../train/distributed/launch.ts');
  const specs = launchSpecs({
    nprocPerNode: Number(o.nprocPerNode), nnodes: Number(o.nnodes), nodeRank: Number(o.nodeRank),
    masterAddr: o.masterAddr, masterPort: Number(o.masterPort),
  }, process.argv.slice(2), os.cpus().length);
  const children: ChildProcess[] = [];
  let first = -1; // the rank that failed first (the others may then be stopped by us)
  const codes = await new Promise<(number | null)[]>((resolve) => {
    const done: (number | null)[] = specs.map(() => null);
    let left = specs.length;
    process.on('SIGINT', () => {}); // the terminal's Ctrl-C reaches every rank; they stop together
    specs.forEach((s, i) => {
      const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...s.args], { stdio: 'inherit', env: { ...process.env, ...s.env } });
      children.push(child);
      child.on('exit', (code, signal) => {
        done[i] = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1);
        if (done[i] !== 0 && first < 0) {
          first = i;
          // the others notice the lost peer themselves and say which rank it was; stop those that do not
          setTimeout(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM'); }, STOP_GRACE_MS).unref();
        }
        if (--left === 0) resolve(done);
      });
    });
  });
  const failed = first;
  if (failed >= 0) {
    process.stderr.write(`detclip: error: rank ${specs[failed]!.rank} exited with code ${codes[failed]}; the other ranks were stopped\n`);
    process.exitCode = codes[failed] ?? 1;
  }
}
