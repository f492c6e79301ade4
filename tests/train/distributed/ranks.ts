// Test helper: runs WORLD child processes of a script as one process group on loopback (a free port),
// each with RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT, bounded by a timeout; gives their exit codes and output.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { loadTorchAddon } from '../../../src/backend/torch/addon.ts';

/** false when the native module with the c10d functions loads, else why the distributed tests skip. */
export function distSkipReason(): string | false {
  const { addon, reason } = loadTorchAddon();
  if (!addon) return `native module not available: ${reason}`;
  return typeof (addon as unknown as Record<string, unknown>).distInit === 'function' ? false : 'the native module has no dist* functions (rebuild with npm run build:native)';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RankResult { rank: number; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; seconds: number }

export async function runRanks(script: string, args: string[], world: number, opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RankResult[]> {
  const port = await freePort();
  const t0 = performance.now();
  return Promise.all([...Array(world).keys()].map((rank) => new Promise<RankResult>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DETCLIP_THREADS: '1', ...opts.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ rank, code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  })));
}
