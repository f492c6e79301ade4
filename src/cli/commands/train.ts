// PLACEHOLDER: replaced by the real 'train' command.
import type { Command } from 'commander';

export function registerTrain(program: Command): void {
  program.command('train').description('(not yet implemented)').action(() => {
    throw new Error("'train' is not implemented yet");
  });
}
