// Loads the optional libtorch N-API addon (native/build/Release/detclip_torch.node).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TorchAddon {
  create(values: Float32Array | Int32Array, shape: number[]): number;
  read(id: number): Float32Array | Int32Array;
  shape(id: number): number[];
  dispose(id: number): boolean;
  count(): number;
  setThreads(n: number): void;
  threads(): number;
  add(a: number, b: number): number;
  sub(a: number, b: number): number;
  mul(a: number, b: number): number;
  div(a: number, b: number): number;
  matmul(a: number, b: number, transposeA: boolean, transposeB: boolean): number;
  batchMatMul(a: number, b: number, transposeA: boolean, transposeB: boolean): number;
  relu(a: number): number;
  exp(a: number): number;
  log(a: number): number;
  sigmoid(a: number): number;
  toFloat(a: number): number;
  clone(a: number): number;
  sum(a: number, axes: number[], keepDims: boolean): number;
  reshape(a: number, shape: number[]): number;
}

export const ADDON_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native', 'build', 'Release', 'detclip_torch.node');

let cached: { addon: TorchAddon | null; reason: string } | null = null;

/** Loads the addon once; addon is null and reason says why when it cannot be loaded. */
export function loadTorchAddon(): { addon: TorchAddon | null; reason: string } {
  if (cached) return cached;
  try {
    const req = createRequire(import.meta.url);
    cached = { addon: req(ADDON_PATH) as TorchAddon, reason: '' };
  } catch (e) {
    cached = { addon: null, reason: e instanceof Error ? e.message.split('\n')[0]! : String(e) };
  }
  return cached;
}
