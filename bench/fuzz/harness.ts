// The fuzzing harness shared by `npm run fuzz` (bench/fuzz.ts) and the fixed-seed slice in tests/fuzz: what a
// target is, the property every input surface must keep, the mutators, and one seeded run of a target.
//
// The property: given any bytes, an entry point returns a valid value or throws detclip's own error
// (DetclipError/UserError) whose message names the file (and the record, where it reports one); never another
// exception type, never past a time bound.
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDetclipError } from '../../src/errors.ts';
import type { DataIssue } from '../../src/data/types.ts';

/** A violated property: a bug to fix. `signature` groups failures of one bug (message shape or throw site). */
export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
  readonly signature: string;
  constructor(message: string, signature?: string) {
    super(message);
    this.signature = signature ?? message.replace(/'[^']*'|"[^"]*"|\/[^\s:)]+|-?\d[\d.e+-]*/g, '_').slice(0, 80);
  }
}
/** An input that took longer than the target's bound. */
export class FuzzHang extends FuzzFailure { override name = 'FuzzHang'; }

export interface FuzzTarget<C = unknown, I = unknown> {
  name: string;
  /** What it feeds and to what. */
  about: string;
  /** Per-input time bound (a slower input is a hang). */
  boundMs: number;
  /** Runs in the test suite's fixed-seed slice. */
  testRuns: number;
  /** Valid inputs and the like, made once in `dir` (a fresh temporary folder). */
  setup(dir: string): Promise<C>;
  arbitrary(ctx: C): fc.Arbitrary<I>;
  /** Feeds one input; throws FuzzFailure when the property does not hold. */
  run(ctx: C, input: I): Promise<void>;
}

// A target's context type is its own; the registry holds them side by side.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTarget = FuzzTarget<any, any>;

const firstLine = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0]!.slice(0, 300);

/**
 * Runs `f`; passes when it returns or throws a DetclipError naming one of `names` (file paths, matched by
 * base name too). Anything else is a FuzzFailure with the escaped error's first line and stack top.
 */
export async function expectClean<T>(names: string[], f: () => Promise<T> | T): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    if (!isDetclipError(e)) {
      const frames = (e as Error)?.stack?.split('\n').slice(1).map((l) => l.trim()) ?? [];
      const at = frames.slice(0, 2).join(' < ');
      const site = frames.find((l) => l.includes('/src/')) ?? frames[0] ?? '';
      throw new FuzzFailure(`escaped ${firstLine(e)} (${at})`, `${(e as Error)?.name} ${site.replace(/^.*\/src\//, 'src/').replace(/:\d+\)?$/, '')}`);
    }
    if (!names.some((n) => e.message.includes(n) || e.message.includes(path.basename(n)))) {
      throw new FuzzFailure(`error does not name ${names.map((n) => path.basename(n)).join(' or ')}: ${firstLine(e)}`);
    }
    return undefined;
  }
}

/** Checks reported issues: each names the file and a record, with a message. */
export function checkIssues(issues: DataIssue[], files: string[]): void {
  for (const i of issues) {
    if (!files.includes(i.file)) throw new FuzzFailure(`issue names ${i.file}, not ${files.join(' or ')}: ${i.message}`);
    if (typeof i.record !== 'string' || i.record === '') throw new FuzzFailure(`issue without a record: ${i.message}`);
    if (typeof i.message !== 'string' || i.message === '') throw new FuzzFailure(`issue without a message at ${i.record}`);
  }
}

/** Throws FuzzFailure unless `ok`. */
export function ensure(ok: boolean, what: string): void {
  if (!ok) throw new FuzzFailure(what);
}

/** Rejects with FuzzHang when `p` takes longer than `ms`; a synchronous overrun is measured afterwards. */
export async function bounded<T>(ms: number, what: string, p: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new FuzzHang(`${what}: no answer after ${ms} ms`)), ms); });
  try {
    const r = await Promise.race([p(), hang]);
    const took = performance.now() - t0;
    if (took > ms) throw new FuzzHang(`${what}: took ${Math.round(took)} ms (bound ${ms} ms)`);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------- mutators

const SPECIAL = [0, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x2d, 0x39, 0x65, 0x0a, 0x0d, 0x09, 0x5c, 0x20, 0x2e, 0x3d];

type Op =
  | { k: 'flip'; at: number; bit: number } | { k: 'set'; at: number; v: number } | { k: 'del'; at: number; len: number }
  | { k: 'ins'; at: number; bytes: Uint8Array } | { k: 'cut'; at: number } | { k: 'dup'; at: number; len: number; to: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('set' as const), at: fc.nat(), v: fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ k: fc.constant('del' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('ins' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 256 }), to: fc.nat() }),
);

function applyOp(b: Uint8Array, op: Op): Uint8Array {
  const n = b.length;
  if (n === 0) return op.k === 'ins' ? op.bytes : b;
  const at = op.at % n;
  const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
  switch (op.k) {
    case 'flip': { const c = b.slice(); c[at] = c[at]! ^ (1 << op.bit); return c; }
    case 'set': { const c = b.slice(); c[at] = op.v; return c; }
    case 'del': return cat(b.subarray(0, at), b.subarray(at + op.len));
    case 'ins': return cat(b.subarray(0, at), op.bytes, b.subarray(at));
    case 'cut': return b.subarray(0, at);
    case 'dup': { const to = op.to % n; return cat(b.subarray(0, to), b.subarray(at, at + op.len), b.subarray(to)); }
  }
}

/** Byte-level mutations (bit flips, special bytes, deletions, insertions, truncation, duplication) of `base`. */
export function mutatedBytes(base: Uint8Array, maxOps = 6): fc.Arbitrary<Uint8Array> {
  return fc.array(opArb, { minLength: 1, maxLength: maxOps }).map((ops) => ops.reduce(applyOp, base));
}

/** Fully random bytes, biased towards the bytes parsers care about. */
export const randomBytes = (maxLength = 1024): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.array(fc.constantFrom(...SPECIAL, 0x31, 0x61, 0x6e, 0x75, 0x6c), { maxLength }).map((a) => Uint8Array.from(a)),
  );

/** JSON values that break careless readers: wrong types, edge numbers, huge strings, nesting, prototype keys. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1, 0.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 31) - 1, 2 ** 32, 1e-320,
    '', ' ', '\u0000', '../../etc/passwd', '\ud800', 'x'.repeat(70000), [], {}, [[]], [null], [1, 2, 3, 4], [0, 0, 0, 0],
    [1e308, 1e308, 1e308, 1e308], [-1, -1, 5, 5], { __proto__: null, polluted: 1 }, JSON.parse('{"__proto__":{"polluted":1}}'),
    JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'), Array.from({ length: 300 }, () => 7)),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Replaces, deletes or duplicates the node at a random path of a parsed JSON value. */
export function mutatedJson(base: unknown, maxEdits = 3): fc.Arbitrary<unknown> {
  const edit = fc.record({ path: fc.array(fc.nat(), { minLength: 0, maxLength: 6 }), action: fc.constantFrom('replace', 'replace', 'delete', 'dup', 'rename'), value: hostileJson, key: hostileKey });
  return fc.array(edit, { minLength: 1, maxLength: maxEdits }).map((edits) => {
    let root = structuredClone(base);
    for (const e of edits) root = editAt(root, e.path, e.action, structuredClone(e.value), e.key);
    return root;
  });
}

/** Keys a renamed property gets: near-misses, empties, prototype names, a very long one. */
const hostileKey: fc.Arbitrary<string> = fc.oneof(fc.constantFrom('', ' ', '__proto__', 'constructor', 'prototype', 'toString', 'k'.repeat(200000), 'ID', 'Id'), fc.string({ maxLength: 12 }));

function editAt(node: unknown, p: number[], action: string, value: unknown, newKey = ''): unknown {
  const isObj = typeof node === 'object' && node !== null;
  const keys = isObj ? Object.keys(node) : [];
  if (p.length === 0 || keys.length === 0) return action === 'replace' ? value : node;
  const k = keys[p[0]! % keys.length]!;
  const rec = node as Record<string, unknown>;
  if (p.length === 1 || typeof rec[k] !== 'object' || rec[k] === null) {
    if (action === 'replace') rec[k] = value;
    else if (action === 'delete') { if (Array.isArray(node)) node.splice(Number(k), 1); else delete rec[k]; }
    else if (action === 'rename') { if (!Array.isArray(node)) { const v = rec[k]; delete rec[k]; Object.defineProperty(rec, newKey, { value: v, enumerable: true, writable: true, configurable: true }); } }
    else if (Array.isArray(node)) node.splice(Number(k), 0, structuredClone(rec[k]));
    else rec[`${k}_`] = structuredClone(rec[k]);
    return node;
  }
  rec[k] = editAt(rec[k], p.slice(1), action, value, newKey);
  return node;
}

/** Bytes of a JSON value (JSON.stringify, with a chance of the value being raw hostile text instead). */
export const jsonBytes = (v: unknown): Uint8Array => new Uint8Array(Buffer.from(JSON.stringify(v) ?? 'undefined', 'utf8'));

// ---------------------------------------------------------------------------------------------- running

export interface TargetResult {
  target: string;
  seed: number;
  inputs: number;
  failure?: { kind: 'crash' | 'hang'; message: string; signature: string; seed: number; path: string; counterexample: string };
}

export interface RunOptions { seed: number; numRuns?: number; timeLimitMs?: number; path?: string }

const contexts = new Map<string, Promise<unknown>>();
const tempDirs: string[] = [];
process.once('exit', () => { for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true }); });

/** The target's context, made once per process in a temporary folder removed at exit. */
export function contextOf(t: AnyTarget): Promise<unknown> {
  let c = contexts.get(t.name);
  if (!c) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `detclip-fuzz-${t.name}-`));
    tempDirs.push(dir);
    c = t.setup(dir);
    contexts.set(t.name, c);
  }
  return c;
}

const bytesText = (b: Uint8Array): string => `bytes(${b.length}) ${JSON.stringify(Buffer.from(b.subarray(0, 200)).toString('latin1'))}`;
const show = (v: unknown): string => {
  const s = v instanceof Uint8Array ? bytesText(v) : JSON.stringify(v, function (k, x) {
    const raw = (this as Record<string, unknown>)[k]; // before Buffer#toJSON
    return raw instanceof Uint8Array ? bytesText(raw) : x;
  });
  return (s ?? String(v)).slice(0, 500);
};

/** One seeded run of a target: up to numRuns inputs or timeLimitMs, stopping at the first failure (no shrinking). */
export async function runTarget(t: AnyTarget, o: RunOptions): Promise<TargetResult> {
  const ctx = await contextOf(t);
  const prop = fc.asyncProperty(t.arbitrary(ctx), (input) => bounded(t.boundMs, t.name, () => t.run(ctx, input)));
  const r = await fc.check(prop, {
    seed: o.seed, numRuns: o.numRuns ?? Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: o.timeLimitMs,
    path: o.path, endOnFailure: true, markInterruptAsFailure: false,
  });
  const result: TargetResult = { target: t.name, seed: o.seed, inputs: r.numRuns };
  if (r.failed) {
    const err = r.errorInstance;
    result.failure = {
      kind: err instanceof FuzzHang ? 'hang' : 'crash',
      message: err instanceof FuzzFailure ? err.message : `property threw ${firstLine(err)}`,
      signature: err instanceof FuzzFailure ? err.signature : firstLine(err),
      seed: r.seed, path: r.counterexamplePath ?? '', counterexample: show(r.counterexample?.[0]),
    };
  }
  return result;
}
