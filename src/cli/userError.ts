export { UserError } from '../errors.ts';

/** Global options (e.g. --backend) as seen from a sub-command's action. */
export function globalOpts(cmd: { optsWithGlobals(): Record<string, unknown> }): { backend?: string } {
  return cmd.optsWithGlobals() as { backend?: string };
}
