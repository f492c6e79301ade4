// PLACEHOLDER: replaced by the real 'eval' command.
import type { Command } from 'commander';

export function registerEval(program: Command): void {
  program.command('eval').description('(not yet implemented)').action(() => {
    throw new Error("'eval' is not implemented yet");
  });
}
