// PLACEHOLDER: replaced by the real 'data' command.
import type { Command } from 'commander';

export function registerData(program: Command): void {
  program.command('data').description('(not yet implemented)').action(() => {
    throw new Error("'data' is not implemented yet");
  });
}
