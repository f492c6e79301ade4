// Loads the reference fixtures in tests/fixtures (copied from ../shared/fixtures).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

export interface JsonTensor {
  shape: number[];
  layout?: string;
  dtype: 'float32' | 'int64' | string;
  data: number[];
}

const cache = new Map<string, unknown>();
export function loadFixtureJson<T = any>(rel: string): T {
  const p = path.join(FIXTURES, rel);
  if (!cache.has(p)) cache.set(p, JSON.parse(fs.readFileSync(p, 'utf8')));
  return cache.get(p) as T;
}

/** A JSON tensor as float32 (bit-exact for float fixtures) plus its shape. */
export function f32(t: JsonTensor): { data: Float32Array; shape: number[] } {
  return { data: new Float32Array(t.data), shape: t.shape };
}

/** NCHW flat data -> NHWC flat data. */
export function nchwToNhwc(data: ArrayLike<number>, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(n! * c! * h! * w!);
  for (let b = 0; b < n!; b++)
    for (let ch = 0; ch < c!; ch++)
      for (let y = 0; y < h!; y++)
        for (let x = 0; x < w!; x++) out[((b * h! + y) * w! + x) * c! + ch] = data[((b * c! + ch) * h! + y) * w! + x]!;
  return out;
}
