// PLACEHOLDER: replaced by the real 'detect' command.
import type { Command } from 'commander';

export function registerDetect(program: Command): void {
  program.command('detect').description('(not yet implemented)').action(() => {
    throw new Error("'detect' is not implemented yet");
  });
}
