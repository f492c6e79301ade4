// Builds the optional libtorch addon with npm's bundled node-gyp (npm runs it as the package's `install`
// script, so `npm ci` builds it). Never fails the caller: on any problem it prints one line
// "detclip: native torch backend not built: <why>" and exits 0; detclip then runs on wasm.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const notBuilt = (why) => {
  console.log(`detclip: native torch backend not built: ${why}`);
  process.exit(0);
};

try {
  if (process.env.DETCLIP_SKIP_NATIVE === '1') notBuilt('DETCLIP_SKIP_NATIVE=1');
  if (!existsSync('/usr/include/ATen/ATen.h') && !existsSync('/usr/include/torch/extension.h')) {
    notBuilt('libtorch headers not found under /usr/include (install libtorch-dev)');
  }
  const nodePrefix = path.dirname(path.dirname(process.execPath));
  const npmCli = process.env.npm_execpath;
  const candidates = [
    npmCli ? path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js') : '',
    path.join(nodePrefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ].filter(Boolean);
  const gyp = candidates.find((p) => existsSync(p));
  if (!gyp) notBuilt('node-gyp not found next to npm');
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodePrefix}`], {
    cwd: here,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.error) notBuilt(r.error.message);
  if (r.status !== 0) notBuilt(`node-gyp exited with status ${r.status}`);
  console.log('detclip: native torch backend built: native/build/Release/detclip_torch.node');
} catch (e) {
  notBuilt(e instanceof Error ? e.message : String(e));
}
