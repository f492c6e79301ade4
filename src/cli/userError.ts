import { initBackend, type BackendName } from '../backend/index.ts';

export { UserError } from '../errors.ts';

/** Global options (e.g. --backend) as seen from a sub-command's action. */
export function globalOpts(cmd: { optsWithGlobals(): Record<string, unknown> }): { backend?: string; threads?: string } {
  return cmd.optsWithGlobals() as { backend?: string; threads?: string };
}

/**
 * Starts the engine named by --backend/--threads (or the environment); a fallback to wasm is one stderr line.
 * `defaultThreads` applies when neither --threads nor DETCLIP_THREADS is given.
 */
export function startBackend(cmd: { optsWithGlobals(): Record<string, unknown> }, defaultThreads?: number): Promise<BackendName> {
  const o = globalOpts(cmd);
  const given = o.threads ?? (process.env.DETCLIP_THREADS ? undefined : defaultThreads?.toString());
  const threads = given === undefined ? undefined : Number(given);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new Error(`--threads must be a positive integer, got '${o.threads}'`);
  }
  return initBackend(o.backend, { threads, onNotice: (line) => { process.stderr.write(`${line}\n`); } });
}
