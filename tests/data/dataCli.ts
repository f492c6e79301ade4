// Runs only the `data` sub-command with main.ts's error handling, so these tests do not depend on the
// other commands' modules: `node --import tsx tests/data/dataCli.ts data check ...`.
import { Command, CommanderError } from 'commander';
import { registerData } from '../../src/cli/commands/data.ts';

const program = new Command('detclip').exitOverride();
registerData(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode;
  else {
    process.stderr.write(`detclip: error: ${(err as Error).message.split('\n')[0]}\n`);
    process.exitCode = 1;
  }
}
