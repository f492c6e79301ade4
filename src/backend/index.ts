// Backend start-up: the one place that names TF.js backends. Model code never does.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { registerWasmKernelGaps } from './wasmKernels.ts';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'webgpu';
const KNOWN: BackendName[] = ['wasm', 'cpu', 'tensorflow', 'webgpu'];

let ready: Promise<BackendName> | null = null;

/** Resolve the backend from an explicit choice, then DETCLIP_BACKEND, then 'wasm'. */
export function resolveBackendName(choice?: string): BackendName {
  const name = (choice ?? process.env.DETCLIP_BACKEND ?? 'wasm').trim().toLowerCase();
  if (!KNOWN.includes(name as BackendName)) {
    throw new Error(`unknown backend '${name}' (expected one of ${KNOWN.join(', ')})`);
  }
  return name as BackendName;
}

async function importOptional(pkg: string): Promise<void> {
  try {
    await import(pkg);
  } catch {
    throw new Error(`backend needs the package '${pkg}', which is not installed (npm install ${pkg})`);
  }
}

/** Initialise TF.js once per process. Idempotent; a different later choice switches backend. */
export async function initBackend(choice?: string): Promise<BackendName> {
  const name = resolveBackendName(choice);
  if (ready && tf.getBackend() === name) return ready;
  ready = (async () => {
    if (name === 'wasm') {
      const req = createRequire(import.meta.url);
      const dist = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm'));
      // Local .wasm files only: no network. Threads need a worker script; Node runs single-threaded SIMD.
      setWasmPaths(dist + path.sep);
      registerWasmKernelGaps();
    } else if (name === 'tensorflow') {
      await importOptional('@tensorflow/tfjs-node');
    } else if (name === 'webgpu') {
      await importOptional('@tensorflow/tfjs-backend-webgpu');
    }
    const ok = await tf.setBackend(name);
    if (!ok) throw new Error(`TF.js backend '${name}' failed to initialise`);
    await tf.ready();
    return name;
  })();
  return ready;
}
