// ONNX DeformConv against the same modulated 3x3 DCN written with GridSample (9 taps sampled as one 9H-row grid,
// masked, then a 1x1 conv over the 9·C channels), on onnxruntime-node CPU: max difference and median time.
//   npx tsx bench/onnxDcnGridSample.ts [--threads 1] [--reps 10]
// Sizes: the tiny head's P3 at 128 px, and r50's P4 at 800x1333 (256 channels, 50x84).
import * as ort from 'onnxruntime-node';
import { OnnxGraph } from '../src/onnx/onnxGraph.ts';
import { scalarF } from '../src/onnx/onnxLayers.ts';
import { ORT_VERSION, resolveOrtThreads } from '../src/onnx/ortSession.ts';

const argv = process.argv.slice(2);
const get = (f: string): string | undefined => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const threads = resolveOrtThreads(Number(get('--threads') ?? 1));
const reps = Number(get('--reps') ?? 10);
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

function rand(n: number, scale: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; out[i] = ((s / 2 ** 32) * 2 - 1) * scale; }
  return out;
}

/** One graph: x, offset, mask inputs -> y, by DeformConv or by GridSample taps. */
function graph(kind: 'deform' | 'grid', c: number, o: number, h: number, w: number, weight: Float32Array): Uint8Array {
  const g = new OnnxGraph(kind);
  const x = g.input('x', 'float32', [1, c, h, w]);
  const off = g.input('offset', 'float32', [1, 18, h, w]);
  const mask = g.input('mask', 'float32', [1, 9, h, w]);
  let y: string;
  if (kind === 'deform') {
    y = g.node('DeformConv', [x, g.constF('w', weight, [o, c, 3, 3]), off, '', mask], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1, offset_group: 1 });
  } else {
    const bx = new Float32Array(9 * h * w);
    const by = new Float32Array(9 * h * w);
    for (let t = 0; t < 9; t++) for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) {
      bx[(t * h + r) * w + q] = q + (t % 3) - 1;
      by[(t * h + r) * w + q] = r + Math.floor(t / 3) - 1;
    }
    const o5 = g.node('Reshape', [off, g.constI64('s', [1, 9, 2, h, w])]);
    const part = (i: number): string => g.node('Squeeze', [g.node('Slice', [o5, g.constI64('s', [i]), g.constI64('e', [i + 1]), g.constI64('a', [2])]), g.constI64('a', [2])]); // [1, 9, h, w]
    const norm = (v: string, base: Float32Array, n: number): string =>
      g.node('Sub', [g.node('Mul', [g.node('Add', [v, g.constF('base', base, [9, h, w])]), scalarF(g, 2 / (n - 1))]), scalarF(g, 1)]);
    const last = g.constI64('a', [-1]);
    const grid = g.node('Concat', [g.node('Unsqueeze', [norm(part(1), bx, w), last]), g.node('Unsqueeze', [norm(part(0), by, h), last])], { axis: -1 }); // (x, y)
    const sampled = g.node('GridSample', [x, g.node('Reshape', [grid, g.constI64('s', [1, 9 * h, w, 2])])], { mode: 'bilinear', padding_mode: 'zeros', align_corners: 1 }); // [1, C, 9h, w]
    const masked = g.node('Mul', [sampled, g.node('Reshape', [mask, g.constI64('s', [1, 1, 9 * h, w])])]);
    const cols = g.node('Reshape', [masked, g.constI64('s', [1, 9 * c, h, w])]); // channel c·9 + tap = OIHW's (c, ky, kx)
    y = g.node('Conv', [cols, g.constF('w1', weight, [o, 9 * c, 1, 1])], { kernel_shape: [1, 1] });
  }
  g.output(y, 'y', 'float32', [1, o, h, w]);
  return g.toBytes(19);
}

console.log(`onnxruntime-node ${ORT_VERSION}, ${threads} thread(s), median of ${reps}`);
for (const [name, c, h, w] of [['tiny P3 @128', 64, 16, 16], ['r50 P4 @800x1333', 256, 50, 84]] as const) {
  const weight = rand(c * c * 9, 0.05, 1);
  const feeds = {
    x: new ort.Tensor('float32', rand(c * h * w, 1, 2), [1, c, h, w]),
    offset: new ort.Tensor('float32', rand(18 * h * w, 2, 3), [1, 18, h, w]),
    mask: new ort.Tensor('float32', rand(9 * h * w, 0.5, 4).map((v) => 0.5 + v), [1, 9, h, w]),
  };
  const res: Record<string, { ms: number; y: Float32Array }> = {};
  for (const kind of ['deform', 'grid'] as const) {
    const sess = await ort.InferenceSession.create(graph(kind, c, c, h, w, weight), { intraOpNumThreads: threads, interOpNumThreads: 1 });
    let y: Float32Array = new Float32Array(0);
    for (let i = 0; i < 3; i++) y = (await sess.run(feeds)).y!.data as Float32Array;
    const t: number[] = [];
    for (let i = 0; i < reps; i++) { const t0 = performance.now(); await sess.run(feeds); t.push(performance.now() - t0); }
    res[kind] = { ms: median(t), y };
    await sess.release();
  }
  const a = res.deform!;
  const b = res.grid!;
  let diff = 0;
  for (let i = 0; i < a.y.length; i++) diff = Math.max(diff, Math.abs(a.y[i]! - b.y[i]!));
  console.log(`${name} (C ${c}, ${h}x${w}): DeformConv ${a.ms.toFixed(2)} ms, GridSample ${b.ms.toFixed(2)} ms, max |diff| ${diff.toExponential(2)}`);
}
