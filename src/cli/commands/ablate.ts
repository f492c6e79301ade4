// PLACEHOLDER: replaced by the real 'ablate' command.
import type { Command } from 'commander';

export function registerAblate(program: Command): void {
  program.command('ablate').description('(not yet implemented)').action(() => {
    throw new Error("'ablate' is not implemented yet");
  });
}
