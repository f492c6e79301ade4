// `detclip train --nproc-per-node N [--nnodes M --node-rank R --master-addr HOST --master-port P]`: what each
// child process gets (torchrun's variables, threads, the command line without the launch flags). Only src/cli
// spawns them.
import { UserError } from '../../errors.ts';

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;          // machines (default 1)
  nodeRank: number;        // this machine's index in [0, nnodes)
  masterAddr: string;      // the machine of global rank 0
  masterPort: number;
}

export interface ChildSpec {
  rank: number;
  localRank: number;
  env: Record<string, string>;  // added to the parent's environment
  args: string[];               // the CLI arguments, launch flags removed
}

/** Flags that belong to the launcher (each takes a value). */
export const LAUNCH_FLAGS = ['--nproc-per-node', '--nnodes', '--node-rank', '--master-addr', '--master-port'] as const;

/** argv without the launch flags ("--flag value" and "--flag=value" forms). */
export function stripLaunchFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((LAUNCH_FLAGS as readonly string[]).includes(a)) { i++; continue; }
    if (LAUNCH_FLAGS.some((f) => a.startsWith(`${f}=`))) continue;
    out.push(a);
  }
  return out;
}

function positiveInt(v: number, flag: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new UserError(`${flag} must be an integer >= ${min}, got '${v}'`);
  return v;
}

/**
 * One spec per local process: global rank = nodeRank·N + localRank, WORLD_SIZE = nnodes·N. Threads per process
 * default to cores / N (DETCLIP_THREADS or --threads, when given, win).
 */
export function launchSpecs(o: LaunchOptions, argv: readonly string[], cores: number, env: NodeJS.ProcessEnv = process.env): ChildSpec[] {
  const n = positiveInt(o.nprocPerNode, '--nproc-per-node', 1);
  const nodes = positiveInt(o.nnodes, '--nnodes', 1);
  const node = positiveInt(o.nodeRank, '--node-rank', 0);
  if (node >= nodes) throw new UserError(`--node-rank ${node} must be below --nnodes ${nodes}`);
  positiveInt(o.masterPort, '--master-port', 1);
  if (o.masterPort > 65535) throw new UserError(`--master-port must be at most 65535, got ${o.masterPort}`);
  const args = stripLaunchFlags(argv);
  const threads = env.DETCLIP_THREADS ?? String(Math.max(1, Math.floor(cores / n)));
  return [...Array(n).keys()].map((localRank) => {
    const rank = node * n + localRank;
    return {
      rank, localRank, args,
      env: {
        RANK: String(rank), LOCAL_RANK: String(localRank), WORLD_SIZE: String(nodes * n), LOCAL_WORLD_SIZE: String(n),
        MASTER_ADDR: o.masterAddr, MASTER_PORT: String(o.masterPort), DETCLIP_THREADS: threads,
      },
    };
  });
}
