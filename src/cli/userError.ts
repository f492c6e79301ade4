import { initBackend, type BackendName } from '../backend/index.ts';

export { UserError } from '../errors.ts';

/** Global options (e.g. --backend) as seen from a sub-command's action. */
export function globalOpts(cmd: { optsWithGlobals(): Record<string, unknown> }): { backend?: string; threads?: string } {
  return cmd.optsWithGlobals() as { backend?: string; threads?: string };
}

/** Starts the engine named by --backend/--threads (or the environment); a fallback to wasm is one stderr line. */
export function startBackend(cmd: { optsWithGlobals(): Record<string, unknown> }): Promise<BackendName> {
  const o = globalOpts(cmd);
  const threads = o.threads === undefined ? undefined : Number(o.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new Error(`--threads must be a positive integer, got '${o.threads}'`);
  }
  return initBackend(o.backend, { threads, onNotice: (line) => { process.stderr.write(`${line}\n`); } });
}
