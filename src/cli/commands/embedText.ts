// PLACEHOLDER: replaced by the real 'embed-text' command.
import type { Command } from 'commander';

export function registerEmbedText(program: Command): void {
  program.command('embed-text').description('(not yet implemented)').action(() => {
    throw new Error("'embed-text' is not implemented yet");
  });
}
