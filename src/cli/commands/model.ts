// PLACEHOLDER: replaced by the real 'model' command.
import type { Command } from 'commander';

export function registerModel(program: Command): void {
  program.command('model').description('(not yet implemented)').action(() => {
    throw new Error("'model' is not implemented yet");
  });
}
