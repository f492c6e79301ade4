// Backend start-up: the one place that names TF.js backends. Model code never does.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerTorchBackend, resolveThreads, setTorchThreads, torchBackendUnavailableReason, torchInfo } from './torch/index.ts';
import { registerWasmKernelGaps } from './wasmKernels.ts';

export type BackendName = 'torch' | 'wasm' | 'cpu' | 'tensorflow' | 'webgpu';
const KNOWN: BackendName[] = ['torch', 'wasm', 'cpu', 'tensorflow', 'webgpu'];

export interface BackendOptions {
  /** Intra-op threads of the native engine (default: DETCLIP_THREADS, else every core). */
  threads?: number;
  /** Receives one line when the default engine (torch) cannot load and wasm is used instead. */
  onNotice?: (line: string) => void;
}

let ready: Promise<BackendName> | null = null;
let notice = '';

/** Resolve an explicit choice, then DETCLIP_BACKEND, then 'auto' (torch when the native module loads, else wasm). */
export function resolveBackendName(choice?: string): BackendName | 'auto' {
  const name = (choice ?? process.env.DETCLIP_BACKEND ?? 'auto').trim().toLowerCase();
  if (name === 'auto') return 'auto';
  if (!KNOWN.includes(name as BackendName)) {
    throw new Error(`unknown backend '${name}' (expected one of auto, ${KNOWN.join(', ')})`);
  }
  return name as BackendName;
}

/** The current engine and its intra-op threads (wasm: 1). */
export function engineInfo(): { engine: string; threads: number } {
  const engine = tf.getBackend();
  return { engine, threads: engine === 'torch' ? torchInfo()?.threads ?? 1 : 1 };
}

/** The line saying why the default fell back to wasm ('' when it did not). */
export const backendNotice = (): string => notice;

async function importOptional(pkg: string): Promise<void> {
  try {
    await import(pkg);
  } catch {
    throw new Error(`backend needs the package '${pkg}', which is not installed (npm install ${pkg})`);
  }
}

/** wasm is always set up: it is the fallback engine and runs the torch backend's non-native kernels. */
async function initWasm(): Promise<void> {
  const req = createRequire(import.meta.url);
  const dist = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm'));
  // Local .wasm files only: no network. Threads need a worker script; Node runs single-threaded SIMD.
  setWasmPaths(dist + path.sep);
  registerWasmKernelGaps();
  if (tf.findBackend('wasm') == null) {
    const current = (tf.engine() as unknown as { backendName: string | null }).backendName;
    if (!(await tf.setBackend('wasm'))) throw new Error(`TF.js backend 'wasm' failed to initialise`);
    if (current && current !== 'wasm') await tf.setBackend(current);
  }
}

const INSTALL = 'apt-get install libtorch-dev libopenblas0-pthread && npm run build:native';

/** Initialise TF.js once per process. Idempotent; a different later choice switches backend. */
export async function initBackend(choice?: string, opts: BackendOptions = {}): Promise<BackendName> {
  const asked = resolveBackendName(choice);
  if (ready && (asked === 'auto' || tf.getBackend() === asked)) {
    if (opts.threads !== undefined) setTorchThreads(resolveThreads(opts.threads));
    return ready;
  }
  ready = (async () => {
    await initWasm();
    let name: BackendName = asked === 'auto' ? 'torch' : asked;
    if (name === 'torch' && !registerTorchBackend(opts.threads)) {
      const why = torchBackendUnavailableReason();
      if (asked === 'torch') throw new Error(`backend 'torch': ${why}; install it with: ${INSTALL}`);
      notice = `detclip: using the wasm engine (1 thread): ${why}; for the native engine: ${INSTALL}`;
      opts.onNotice?.(notice);
      name = 'wasm';
    } else if (name === 'torch' && opts.threads !== undefined) {
      setTorchThreads(resolveThreads(opts.threads));
    }
    if (name === 'tensorflow') await importOptional('@tensorflow/tfjs-node');
    else if (name === 'webgpu') await importOptional('@tensorflow/tfjs-backend-webgpu');
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TF.js backend '${name}' failed to initialise`);
    await tf.ready();
    return name;
  })();
  return ready;
}
