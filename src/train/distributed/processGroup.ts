// A typed wrapper over the native addon's c10d functions (native/src/dist.cc): a TCPStore rendezvous hosted by
// rank 0 and one Gloo process group. Buffers are plain Float32Arrays, so it works whichever TF.js backend
// (torch or wasm) computes: gradients are read out, reduced in place, written back. Every call is synchronous.
import { DetclipError, UserError } from '../../errors.ts';
import { loadTorchAddon } from '../../backend/torch/addon.ts';

type Buffers = (Float32Array | Int32Array)[];

/** The addon's dist* functions (an addon built from older sources lacks them). */
interface DistAddon {
  distInit(o: { rank: number; worldSize: number; host: string; port: number; timeoutMs: number; iface?: string }): { port: number };
  distAllreduce(buffers: Float32Array[], op: 'sum' | 'max' | 'min', bucketMb: number): void;
  distBroadcast(buffers: Buffers, root: number, bucketMb: number): void;
  distAllgather?(words: Int32Array): Int32Array;  // absent in addons built before it existed
  distBarrier(): void;
  distStoreSet(key: string, value: string): void;
  distStoreCheck(key: string): boolean;
  distDestroy(): void;
}

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  localRank?: number;       // rank within this machine (default: rank)
  masterAddr?: string;      // rank 0's address (default 127.0.0.1)
  masterPort: number;       // rank 0 listens here
  timeoutMs?: number;       // rendezvous and every collective (default DETCLIP_DIST_TIMEOUT seconds, else 1800 s)
  iface?: string;           // network interface Gloo uses (GLOO_SOCKET_IFNAME)
  bucketMb?: number;        // allreduce bucket size (default 25, as torch DDP)
  checkInMs?: number;       // after a failure: how long to wait for the other ranks to report (default 3000)
}

/** A collective failed: a peer died, hung past the timeout, or the ranks disagree. */
export class DistributedError extends DetclipError {
  override name = 'DistributedError';
  constructor(message: string) { super(message, 'EDIST'); }
}

const DEFAULT_TIMEOUT_S = 1800;

function intVar(env: NodeJS.ProcessEnv, name: string, min: number): number {
  const raw = env[name];
  const v = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(v) || v < min) {
    throw new UserError(`environment: ${name} must be an integer >= ${min}, got '${raw ?? ''}'`);
  }
  return v;
}

/** The timeout from DETCLIP_DIST_TIMEOUT (seconds), else 1800 s. */
export function timeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return env.DETCLIP_DIST_TIMEOUT === undefined ? DEFAULT_TIMEOUT_S * 1000 : intVar(env, 'DETCLIP_DIST_TIMEOUT', 1) * 1000;
}

/**
 * Options from torchrun-style variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT);
 * undefined when WORLD_SIZE is unset or 1 (a plain single-process run).
 */
export function processGroupOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ProcessGroupOptions | undefined {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '1') return undefined;
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  const rank = intVar(env, 'RANK', 0);
  if (rank >= worldSize) throw new UserError(`environment: RANK ${rank} is not below WORLD_SIZE ${worldSize}`);
  return {
    rank, worldSize,
    localRank: env.LOCAL_RANK === undefined ? rank : intVar(env, 'LOCAL_RANK', 0),
    masterAddr: env.MASTER_ADDR || '127.0.0.1',
    masterPort: env.MASTER_PORT === undefined ? 29500 : intVar(env, 'MASTER_PORT', 1),
    timeoutMs: timeoutFromEnv(env),
    iface: env.GLOO_SOCKET_IFNAME || undefined,
  };
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Bytes padded to a whole number of int32 words (collectives move typed arrays), or to `words` words. */
function wordsOf(bytes: Uint8Array, length: number, words = Math.ceil(length / 4)): Int32Array {
  const w = new Int32Array(words);
  new Uint8Array(w.buffer).set(bytes.subarray(0, length));
  return w;
}

export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly timeoutMs: number;
  private readonly bucketMb: number;
  private readonly checkInMs: number;
  private destroyed = false;

  private constructor(private readonly addon: DistAddon, o: ProcessGroupOptions) {
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.localRank = o.localRank ?? o.rank;
    this.timeoutMs = o.timeoutMs ?? timeoutFromEnv();
    this.bucketMb = o.bucketMb ?? 25;
    this.checkInMs = o.checkInMs ?? 3000;
  }

  /** Joins the group: blocks until all worldSize ranks have reached rank 0's address (or the timeout). */
  static init(o: ProcessGroupOptions): ProcessGroup {
    const { addon, reason } = loadTorchAddon();
    const dist = addon as unknown as Partial<DistAddon> | null;
    if (!dist || typeof dist.distInit !== 'function') {
      throw new UserError(`distributed training needs the native module with c10d (native/build/Release/detclip_torch.node): ${reason || 'this build has no dist* functions'}; build it with npm run build:native (needs libtorch-dev and libgloo-dev)`);
    }
    if (!Number.isInteger(o.worldSize) || o.worldSize < 1 || !Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize) {
      throw new UserError(`distributed: need 0 <= rank < worldSize, got rank ${o.rank} of ${o.worldSize}`);
    }
    const pg = new ProcessGroup(dist as DistAddon, o);
    const host = o.masterAddr ?? '127.0.0.1';
    try {
      dist.distInit({ rank: o.rank, worldSize: o.worldSize, host, port: o.masterPort, timeoutMs: pg.timeoutMs, ...(o.iface ? { iface: o.iface } : {}) });
    } catch (e) {
      throw new UserError(`distributed: rendezvous at ${host}:${o.masterPort} failed for rank ${o.rank} of ${o.worldSize} within ${pg.timeoutMs / 1000} s (check MASTER_ADDR/MASTER_PORT and that every rank was started): ${firstLine(e).replace(/^rendezvous at \S+ failed \([^)]*\): /, '')}`);
    }
    return pg;
  }

  /** Sums (or max/min) every buffer across ranks, in place; consecutive small buffers share one bucket. */
  allreduce(buffers: Float32Array[], op: 'sum' | 'max' | 'min' = 'sum'): void {
    this.run('allreduce', () => this.addon.distAllreduce(buffers, op, this.bucketMb));
  }

  /** Copies root's buffers into every rank's (same lengths everywhere). */
  broadcast(buffers: Buffers, root = 0): void {
    this.run('broadcast', () => this.addon.distBroadcast(buffers, root, this.bucketMb));
  }

  barrier(): void {
    this.run('barrier', () => this.addon.distBarrier());
  }

  /**
   * Every rank's bytes, in rank order: one small allreduce of the lengths, then one allgather of the bytes padded
   * to the longest (an older addon without distAllgather: one broadcast per rank).
   */
  allgatherBytes(bytes: Uint8Array): Uint8Array[] {
    const lengths = new Float32Array(this.worldSize);
    lengths[this.rank] = Math.min(bytes.length, 1 << 24); // float32-exact; every rank sees an oversize one below
    this.allreduce([lengths]);
    const longest = Math.max(...lengths);
    if (longest >= 1 << 24) throw new Error(`allgather: rank ${lengths.indexOf(longest)} sends 16 MiB or more (the limit)`);
    const words = Math.ceil(longest / 4);
    if (this.addon.distAllgather) {
      let all: Int32Array = new Int32Array(0);
      this.run('allgather', () => { all = this.addon.distAllgather!(wordsOf(bytes, bytes.length, words)); });
      return [...lengths].map((n, r) => new Uint8Array(all.buffer, all.byteOffset + r * words * 4, n));
    }
    const out: Uint8Array[] = [];
    for (let r = 0; r < this.worldSize; r++) {
      const n = lengths[r]!;
      const buf = r === this.rank ? wordsOf(bytes, n) : new Int32Array(Math.ceil(n / 4));
      if (buf.length > 0) this.broadcast([buf], r);
      out.push(new Uint8Array(buf.buffer, 0, n));
    }
    return out;
  }

  /** Every rank's JSON value, in rank order. */
  allgatherJson<T>(value: T): T[] {
    const enc = new TextEncoder().encode(JSON.stringify(value));
    const dec = new TextDecoder();
    return this.allgatherBytes(enc).map((b) => JSON.parse(dec.decode(b)) as T);
  }

  /** Root's JSON value on every rank (`value` is ignored elsewhere). */
  broadcastJson<T>(value: T | undefined, root = 0): T {
    const enc = this.rank === root ? new TextEncoder().encode(JSON.stringify(value ?? null)) : new Uint8Array(0);
    const len = new Int32Array([enc.length]);
    this.broadcast([len], root);
    const words = this.rank === root ? wordsOf(enc, enc.length) : new Int32Array(Math.ceil(len[0]! / 4));
    if (words.length > 0) this.broadcast([words], root);
    return JSON.parse(new TextDecoder().decode(new Uint8Array(words.buffer, 0, len[0]!))) as T;
  }

  /** Leaves the group (the Gloo threads and sockets close). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.addon.distDestroy();
  }

  private run(what: string, f: () => void): void {
    if (this.destroyed) throw new Error(`distributed: ${what} after destroy()`);
    try {
      f();
    } catch (e) {
      if (e instanceof TypeError) throw e;
      throw new DistributedError(`rank ${this.rank}: ${what} failed: ${this.whoFailed()} (${firstLine(e)})`);
    }
  }

  /**
   * After a failed collective: every survivor checks in at the rendezvous store; the ranks that do not check in
   * within checkInMs are the ones that died or hang. Without the store, rank 0 (its host) is gone.
   */
  private whoFailed(): string {
    try {
      this.addon.distStoreSet(`failed/${this.rank}`, '1');
      const others = [...Array(this.worldSize).keys()].filter((r) => r !== this.rank);
      const deadline = Date.now() + this.checkInMs;
      let missing = others;
      for (;;) {
        missing = missing.filter((r) => !this.addon.distStoreCheck(`failed/${r}`));
        if (missing.length === 0 || Date.now() >= deadline) break;
        sleepMs(50);
      }
      if (missing.length === 0) return 'every rank reports the failure (network error or timeout)';
      return `rank ${missing.join(', ')} stopped responding (killed, crashed, or stuck past the ${this.timeoutMs / 1000} s timeout)`;
    } catch {
      return this.rank === 0 ? 'the rendezvous store failed' : 'rank 0 (the rendezvous host) is gone (killed or crashed)';
    }
  }
}
