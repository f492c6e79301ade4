// `npm run bench:compare`: our r50 training step / inference (bench/train_step.ts) against torchvision's
// fcos_resnet50_fpn (bench/reference/torchvision_fcos.py), same machine, same run. Both sides load and warm up
// once, as long-lived processes, then take turns (ABBA order, so slow drift of the machine's load hits both
// alike): while one is timed, the other waits on stdin. Prints every repetition, medians of wall and CPU time,
// peak RSS, and `ratio train_step=X inference=Y` (ours / torchvision, wall-time medians) at 1 thread on both
// sides, then the same at every core with ` threads=N` appended. Ours runs on the default engine (torch when
// built; --backend to choose). A third process, bench/onnxServe.ts, runs the same inference on the r50 model's
// ONNX export (exported once per run into a temp dir, removed at the end) with onnxruntime-node at the same
// thread count, in the same ABBA turns (ours, onnx, torch / torch, onnx, ours): `ratio inference_onnx=X threads=N`.
//   npx tsx bench/compare.ts [--reps 5] [--size 320] [--concepts 80] [--plain-names] [--python /usr/bin/python3]
//                            [--backend torch|wasm] [--threads 1,2] [--no-onnx]
// Installs python3-torch, python3-torchvision and libopenblas0-pthread with apt-get when torch is missing
// (this script only; never tests or CI).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);

function arg(argv: string[], flag: string, dflt: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
}

/** Makes sure `python -c "import torch, torchvision"` works, installing the Debian packages if it does not. */
function ensureTorch(python: string): void {
  const check = (): boolean => spawnSync(python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;
  if (check()) return;
  const pkgs = ['python3-torch', 'python3-torchvision', 'libopenblas0-pthread'];
  const root = process.getuid?.() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!hasApt) throw new Error(`torch/torchvision are not importable by ${python} and apt-get is missing: install ${pkgs.join(' ')} (or torch + torchvision) yourself`);
  const sudo = root ? [] : ['sudo'];
  console.log(`installing ${pkgs.join(' ')} (apt-get)...`);
  for (const cmd of [[...sudo, 'apt-get', 'update'], [...sudo, 'apt-get', 'install', '-y', '--no-install-recommends', ...pkgs]]) {
    const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new Error(`'${cmd.join(' ')}' failed (exit ${r.status})`);
  }
  if (!check()) throw new Error(`installed ${pkgs.join(' ')}, but ${python} still cannot import torch and torchvision`);
}

type Reply = Record<string, number | boolean | string>;

/** A long-lived bench process answering one JSON line per command line. */
class Server {
  private readonly lines: AsyncIterator<string>;
  readonly proc: ChildProcessWithoutNullStreams;
  constructor(readonly name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  /** The next JSON line (non-JSON lines, e.g. library notices, are echoed and skipped). */
  async next(): Promise<Reply> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done) throw new Error(`${this.name} exited (code ${this.proc.exitCode}) before answering`);
      try {
        const v = JSON.parse(r.value) as Reply;
        if (v.error) throw new Error(`${this.name}: ${v.error}`);
        return v;
      } catch (e) {
        if (e instanceof SyntaxError) console.log(`[${this.name}] ${r.value}`);
        else throw e;
      }
    }
  }

  async ask(cmd: 'train' | 'infer'): Promise<Reply> {
    if (this.proc.exitCode !== null) throw new Error(`${this.name} exited (code ${this.proc.exitCode})`);
    this.proc.stdin.write(cmd + '\n');
    return this.next();
  }

  quit(): void {
    this.proc.stdin.end('quit\n');
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const f0 = (x: number): string => x.toFixed(0);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const reps = Number(arg(argv, '--reps', '5'));
  const size = arg(argv, '--size', '320');
  const concepts = arg(argv, '--concepts', '80');
  const python = arg(argv, '--python', '/usr/bin/python3');
  ensureTorch(python);
  const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`machine: ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${load()}`);
  const threadCounts = arg(argv, '--threads', `1,${os.availableParallelism()}`).split(',').map(Number).filter((n, i, a) => n >= 1 && a.indexOf(n) === i);
  const backend = arg(argv, '--backend', '');
  const onnxDir = argv.includes('--no-onnx') ? null : exportR50Onnx(backend);
  try {
    for (const threads of threadCounts) {
      console.log(`\ncase: ${size}x${size}, batch 2; ours r50 (ResNet-50 + FPN + ATSS head with DCN + CLIP-B text tower, ${concepts} concepts${argv.includes('--plain-names') ? ', plain names' : ', enriched'}); torchvision fcos_resnet50_fpn, 81 classes; ${threads} thread(s) each`);
      await compareAt(threads, { reps, size, concepts, python, backend, plainNames: argv.includes('--plain-names'), load, onnxDir });
    }
  } finally {
    if (onnxDir) fs.rmSync(path.dirname(onnxDir), { recursive: true, force: true });
  }
}

/** Exports the r50 model that train_step.ts builds (seed 0, random init) once, into a temp dir: its path. */
function exportR50Onnx(backend: string): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-compare-onnx-')), 'r50');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, 'onnxServe.ts'), '--export', dir, '--preset', 'r50', ...(backend ? ['--backend', backend] : [])],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`exporting r50 to ONNX failed (exit ${r.status}): ${r.stdout}`);
  const bytes = fs.statSync(path.join(dir, 'image.onnx')).size + fs.statSync(path.join(dir, 'text.onnx')).size;
  console.log(`onnx: r50 exported (random init, as train_step.ts builds it) in ${((performance.now() - t0) / 1000).toFixed(0)} s, ${(bytes / 1e6).toFixed(0)} MB`);
  return dir;
}

interface Case { reps: number; size: string; concepts: string; python: string; backend: string; plainNames: boolean; load: () => string; onnxDir: string | null }

async function compareAt(threads: number, c: Case): Promise<void> {
  const { reps, size, concepts, python, load } = c;
  const ours = new Server('ours', process.execPath, ['--import', 'tsx', path.join(HERE, 'train_step.ts'), '--serve', '--size', size, '--batch', '2', '--concepts', concepts,
    '--threads', String(threads), ...(c.backend ? ['--backend', c.backend] : []), ...(c.plainNames ? ['--plain-names'] : [])]);
  // torch.set_num_threads covers ATen/OpenMP, but OpenBLAS (libopenblas0-pthread) keeps its own pool unless
  // told (without these, torch's CPU time exceeded its wall time at one thread).
  const n = String(threads);
  const env = { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, REF_THREADS: n };
  const torch = new Server('torchvision', python, [path.join(HERE, 'reference', 'torchvision_fcos.py'), '--serve', size], env);
  const onnx = c.onnxDir ? new Server('onnx', process.execPath, ['--import', 'tsx', path.join(HERE, 'onnxServe.ts'), '--serve', '--onnx', c.onnxDir, '--size', size, '--batch', '2',
    '--concepts', concepts, '--threads', String(threads), ...(c.backend ? ['--backend', c.backend] : []), ...(c.plainNames ? ['--plain-names'] : [])]) : null;
  const suffix = threads === 1 ? '' : ` threads=${threads}`;
  try {
    const [oi, ti, ni] = await Promise.all([ours.next(), torch.next(), onnx?.next()]); // all built and warmed up (1 train step + 1 inference)
    console.log(`ready: ours ${oi.backend}, ${oi.threads} thread(s) (${(Number(oi.params) / 1e6).toFixed(1)} M parameters); torch ${ti.torch}, torchvision ${ti.torchvision}, ${ti.threads} thread(s)` +
      (ni ? `; onnx engine: onnxruntime-node ${ni.onnxruntime}, ${ni.threads} thread(s), scoring on ${ni.scoring}` : ''));
    const res = { ours: { train: [] as Reply[], infer: [] as Reply[] }, torch: { train: [] as Reply[], infer: [] as Reply[] }, onnx: { infer: [] as Reply[] } };
    console.log('| rep | side | train step ms (cpu) | inference ms (cpu) | load avg |');
    console.log('|---|---|---|---|---|');
    for (let r = 0; r < reps; r++) {
      const order = r % 2 === 0 ? [['ours', ours], ['onnx', onnx], ['torch', torch]] as const : [['torch', torch], ['onnx', onnx], ['ours', ours]] as const;
      for (const [side, srv] of order) {
        if (!srv) continue;
        if (side === 'onnx') {
          const i = await srv.ask('infer');
          res.onnx.infer.push(i);
          console.log(`| ${r + 1} | onnx | - | ${f0(Number(i.inference_ms))} (${f0(Number(i.cpu_ms))}) | ${load()} |`);
          continue;
        }
        const t = await srv.ask('train');
        const i = await srv.ask('infer');
        res[side].train.push(t);
        res[side].infer.push(i);
        console.log(`| ${r + 1} | ${side} | ${f0(Number(t.train_step_ms))} (${f0(Number(t.cpu_ms))}) | ${f0(Number(i.inference_ms))} (${f0(Number(i.cpu_ms))}) | ${load()} |`);
      }
    }
    const med = (xs: Reply[], key: string): number => median(xs.map((x) => Number(x[key])));
    const peak = (side: 'ours' | 'torch'): number => Math.max(...[...res[side].train, ...res[side].infer].map((x) => Number(x.peak_rss_mib)));
    const m = {
      ours: { train: med(res.ours.train, 'train_step_ms'), infer: med(res.ours.infer, 'inference_ms'), trainCpu: med(res.ours.train, 'cpu_ms'), inferCpu: med(res.ours.infer, 'cpu_ms') },
      torch: { train: med(res.torch.train, 'train_step_ms'), infer: med(res.torch.infer, 'inference_ms'), trainCpu: med(res.torch.train, 'cpu_ms'), inferCpu: med(res.torch.infer, 'cpu_ms') },
    };
    const tensors = res.ours.train.map((x) => x.tensors);
    console.log(`medians of ${reps}: ours train ${f0(m.ours.train)} ms (cpu ${f0(m.ours.trainCpu)}), inference ${f0(m.ours.infer)} ms (cpu ${f0(m.ours.inferCpu)}), peak RSS ${f0(peak('ours'))} MiB, live tensors after each step ${[...new Set(tensors)].join('/')}`);
    console.log(`medians of ${reps}: torchvision train ${f0(m.torch.train)} ms (cpu ${f0(m.torch.trainCpu)}), inference ${f0(m.torch.infer)} ms (cpu ${f0(m.torch.inferCpu)}), peak RSS ${f0(peak('torch'))} MiB`);
    console.log(`cpu-time ratio train_step=${(m.ours.trainCpu / m.torch.trainCpu).toFixed(2)} inference=${(m.ours.inferCpu / m.torch.inferCpu).toFixed(2)}${suffix}`);
    console.log(`ratio train_step=${(m.ours.train / m.torch.train).toFixed(2)} inference=${(m.ours.infer / m.torch.infer).toFixed(2)}${suffix}`);
    if (onnx) {
      const [oInf, oCpu] = [med(res.onnx.infer, 'inference_ms'), med(res.onnx.infer, 'cpu_ms')];
      const oPeak = Math.max(...res.onnx.infer.map((x) => Number(x.peak_rss_mib)));
      console.log(`medians of ${reps}: onnx engine (r50 export) inference ${f0(oInf)} ms (cpu ${f0(oCpu)}), peak RSS ${f0(oPeak)} MiB; cpu-time ratio inference_onnx=${(oCpu / m.torch.inferCpu).toFixed(2)}`);
      console.log(`ratio inference_onnx=${(oInf / m.torch.infer).toFixed(2)} threads=${threads}`);
    }
  } finally {
    ours.quit();
    torch.quit();
    onnx?.quit();
  }
}

await main();
