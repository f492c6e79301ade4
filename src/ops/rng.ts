// Seeded pseudo-random numbers for everything random in detclip (data sampling, augmentation, init).
// Generator: xoshiro128** (Blackman & Vigna), 128-bit state, period 2^128 - 1, seeded through splitmix32.
// Each Rng also carries a 128-bit `key` (its identity): fork(label) derives a child from key + label only,
// so a child stream does not depend on how many numbers the parent has drawn, and the same label always
// gives the same child. getState()/setState() round-trip everything (JSON-safe) for exact resume.

export interface RngState {
  key: [number, number, number, number];
  s: [number, number, number, number];
}

const TWO_32 = 4294967296;

/** splitmix32 step: a well-mixed 32-bit output for a 32-bit input. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** Absorb 32-bit words into a 128-bit key (sponge-like: each word perturbs and remixes all four lanes). */
function absorb(key: readonly number[], words: readonly number[]): [number, number, number, number] {
  const k = [key[0]!, key[1]!, key[2]!, key[3]!];
  for (const w of words) {
    for (let i = 0; i < 4; i++) k[i] = mix32((k[i]! ^ w) + Math.imul(i + 1, 0x85ebca6b) + k[(i + 3) & 3]!);
  }
  return k as [number, number, number, number];
}

/** A seed or label as 32-bit words: strings by UTF-16 code unit (plus length), integers as lo/hi halves. */
function words(x: number | string, what: string): number[] {
  if (typeof x === 'string') {
    const out = [0x5354_5200, x.length]; // 'STR' tag keeps "1" and 1 apart
    for (let i = 0; i < x.length; i++) out.push(x.charCodeAt(i));
    return out;
  }
  if (!Number.isSafeInteger(x)) throw new Error(`${what} must be a safe integer or a string, got ${x}`);
  const lo = x >>> 0;
  const hi = Math.floor(x / TWO_32) >>> 0; // negative numbers: two's-complement-like high word
  return [0x4e55_4d00, lo, hi];
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Rng {
  private key: [number, number, number, number];
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** A generator for `seed` (a safe integer or any string); the same seed always gives the same stream. */
  constructor(seed: number | string = 0) {
    this.key = absorb([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], words(seed, 'Rng seed'));
    this.resetFromKey();
  }

  /** A generator restored from getState(). */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  private resetFromKey(): void {
    const [a, b, c, d] = absorb(this.key, [0x5eed]);
    [this.s0, this.s1, this.s2, this.s3] = [a, b, c, d];
    if ((a | b | c | d) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextUint32() / TWO_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n) without modulo bias; n a positive integer <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_32) throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = TWO_32 - (TWO_32 % n); // reject the incomplete last block
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** Standard normal N(0, 1) (Box-Muller, one value per call so the state stays just the 4 words). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.next(); // (0, 1]: log is finite
    const u2 = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher-Yates shuffle in place; returns arr. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = tmp;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** k distinct elements of arr (without replacement), in random order; O(k) time and memory. */
  sample<T>(arr: readonly T[], k: number): T[] {
    const n = arr.length;
    if (!Number.isInteger(k) || k < 0 || k > n) throw new Error(`Rng.sample: k must be an integer in [0, ${n}], got ${k}`);
    // Sparse Fisher-Yates: `moved` records the positions a virtual swap has overwritten.
    const moved = new Map<number, number>();
    const out: T[] = new Array(k);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const pick = moved.get(j) ?? j;
      moved.set(j, moved.get(i) ?? i);
      out[i] = arr[pick]!;
    }
    return out;
  }

  /** Index i with probability weights[i] / sum(weights); weights finite and >= 0, sum > 0. */
  choiceWeighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`Rng.choiceWeighted: weight ${i} is ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new Error('Rng.choiceWeighted: weights sum to 0');
    let r = this.next() * total;
    let last = -1;
    for (let i = 0; i < weights.length; i++) {
      if (weights[i]! <= 0) continue;
      last = i;
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return last; // float round-off left r >= 0: the last positive weight
  }

  /** An independent child stream named by label; depends only on this Rng's key and the label. */
  fork(label: string | number): Rng {
    const child = new Rng(0);
    child.key = absorb(this.key, [0xf0f0_0001, ...words(label, 'Rng.fork label')]);
    child.resetFromKey();
    return child;
  }

  /** Everything needed to continue this exact stream later (plain JSON numbers). */
  getState(): RngState {
    return { key: [...this.key], s: [this.s0, this.s1, this.s2, this.s3].map((x) => x >>> 0) as RngState['s'] };
  }

  setState(state: RngState): void {
    const ok = (a: unknown) => Array.isArray(a) && a.length === 4 && a.every((x) => Number.isInteger(x) && x >= 0 && x < TWO_32);
    if (!ok(state?.key) || !ok(state?.s)) throw new Error('Rng.setState: expected { key: 4 uint32, s: 4 uint32 }');
    if ((state.s[0] | state.s[1] | state.s[2] | state.s[3]) === 0) throw new Error('Rng.setState: all-zero state');
    this.key = [...state.key];
    [this.s0, this.s1, this.s2, this.s3] = [state.s[0] | 0, state.s[1] | 0, state.s[2] | 0, state.s[3] | 0];
  }
}
