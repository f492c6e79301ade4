/** An error caused by the user's input (file, record, flag): printed as one line, exit code 1. */
export class UserError extends Error {
  override name = 'UserError';
}

/** Global options (e.g. --backend) as seen from a sub-command's action. */
export function globalOpts(cmd: { optsWithGlobals(): Record<string, unknown> }): { backend?: string } {
  return cmd.optsWithGlobals() as { backend?: string };
}
