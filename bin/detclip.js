#!/usr/bin/env node
// Entry point: runs the TypeScript CLI through tsx, so `npx detclip` works right after `npm ci`.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
