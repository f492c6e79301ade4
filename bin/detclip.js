#!/usr/bin/env node
// Entry point of the `detclip` command: runs the compiled CLI (dist/, built by `npm run build`, which
// `npm ci`/`npm install` run through `prepare` and `npm pack` through `prepack`) with plain node.
import { existsSync } from 'node:fs';
const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('detclip: error: the compiled CLI (dist/cli/main.js) is missing; run `npm run build`\n');
  process.exit(1);
}
const { main } = await import(cli.href);
await main(process.argv);
