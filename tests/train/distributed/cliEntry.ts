// The detclip CLI from the TypeScript sources (bin/detclip.js runs the compiled dist/): lets the launch test run
// `detclip train --nproc-per-node N` whose children start the same way (process.execArgv keeps --import tsx).
import { main } from '../../../src/cli/main.ts';

await main(process.argv);
