// PLACEHOLDER: replaced by the real 'eval-json' command.
import type { Command } from 'commander';

export function registerEvalJson(program: Command): void {
  program.command('eval-json').description('(not yet implemented)').action(() => {
    throw new Error("'eval-json' is not implemented yet");
  });
}
