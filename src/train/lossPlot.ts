// Loss curves as a PNG: an SVG we draw ourselves (total loss per kind vs step; faint raw line, bold smoothed line,
// axes with ticks, legend), rasterised by sharp (librsvg).
import sharp from 'sharp';
import { atomicWriteFileSync } from '../io/atomicWrite.ts';
import type { MetricsRecord, TrainRecord } from './metricsLog.ts';

export interface LossPlotOptions {
  width?: number;                     // px, default 900
  height?: number;                    // px, default 520
  smoothing?: number;                 // EMA weight in [0, 1), TensorBoard-style (debiased); default 0.9
  yScale?: 'linear' | 'log' | 'auto'; // auto: log when all losses > 0 and they span more than 20x
  title?: string;
}

const COLORS: Record<string, string> = { detection: '#1f77b4', grounding: '#d62728', imageText: '#2ca02c' };
const EXTRA = ['#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];

/** Debiased exponential moving average: s_t = EMA_t / (1 - w^t), so early points are not pulled towards 0. */
export function smoothEma(values: readonly number[], weight: number): number[] {
  let acc = 0;
  return values.map((v, i) => {
    acc = weight * acc + (1 - weight) * v;
    return weight === 0 ? v : acc / (1 - weight ** (i + 1));
  });
}

/** About `count` round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Log-scale ticks: 1, 2, 5 x 10^k inside [lo, hi] (only powers of ten when the range spans many decades). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(hi / lo);
  const mults = decades > 4 ? [1] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of mults) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  return out;
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(0) : String(Number(v.toPrecision(4))));
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Groups training records (not eval) by kind, in step order: kind -> [step, loss][]. */
export function lossSeries(records: readonly MetricsRecord[]): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  for (const r of records) {
    if (r.kind === 'eval') continue;
    const t = r as TrainRecord;
    if (!Number.isFinite(t.loss)) continue;
    let s = out.get(t.kind);
    if (!s) out.set(t.kind, (s = []));
    s.push([t.step, t.loss]);
  }
  const order = (k: string): number => { const i = Object.keys(COLORS).indexOf(k); return i < 0 ? 99 : i; };
  return new Map([...out].sort(([a], [b]) => order(a) - order(b)));
}

export function buildLossSvg(records: readonly MetricsRecord[], opts: LossPlotOptions = {}): string {
  const W = opts.width ?? 900, H = opts.height ?? 520;
  const m = { left: 72, right: 24, top: 44, bottom: 56 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const series = lossSeries(records);
  const all = [...series.values()].flat();
  let xMin = 0, xMax = 1, yMin = Infinity, yMax = -Infinity; // loops, not Math.min(...): runs can log 1e5+ points
  for (const [s, l] of all) {
    xMin = Math.min(xMin, s); xMax = Math.max(xMax, s);
    yMin = Math.min(yMin, l); yMax = Math.max(yMax, l);
  }
  if (!all.length) { yMin = 0; yMax = 1; }
  const log = yMin > 0 && (opts.yScale === 'log' || (opts.yScale !== 'linear' && yMax / yMin > 20));
  if (!log) {
    if (yMax === yMin) { yMin -= 0.5; yMax += 0.5; }
    yMin = Math.min(0, yMin);
    yMax += 0.04 * (yMax - yMin); // headroom so the top of a curve does not sit on the frame
  }
  const ty = (v: number): number => log ? Math.log10(v) : v;
  const [ly0, ly1] = [ty(yMin), ty(yMax)];
  const X = (s: number): number => m.left + ((s - xMin) / (xMax - xMin || 1)) * pw;
  const Y = (v: number): number => m.top + ph - ((ty(v) - ly0) / (ly1 - ly0 || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="26" font-size="17" text-anchor="middle" font-weight="bold">${esc(opts.title ?? 'training loss')}</text>`);
  // grid + ticks
  const yt = log ? logTicks(yMin, yMax) : niceTicks(yMin, yMax);
  for (const v of yt) {
    const y = Y(v).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y}" font-size="12" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`);
  }
  for (const s of niceTicks(xMin, xMax, 8)) {
    const x = X(s).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${m.top + ph + 18}" font-size="12" text-anchor="middle">${fmt(s)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 14}" font-size="13" text-anchor="middle">optimizer step</text>`);
  parts.push(`<text x="18" y="${m.top + ph / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${m.top + ph / 2})">total loss${log ? ' (log)' : ''}</text>`);
  // curves
  const smoothing = opts.smoothing ?? 0.9;
  let extra = 0, li = 0;
  for (const [kind, pts] of series) {
    const color = COLORS[kind] ?? EXTRA[extra++ % EXTRA.length]!;
    // draw at most ~2 points per pixel column
    const every = Math.max(1, Math.ceil(pts.length / (2 * pw)));
    const line = (ys: number[]): string => pts
      .map(([s], i) => (i % every === 0 || i === pts.length - 1 ? `${i ? 'L' : 'M'}${X(s).toFixed(1)},${Y(ys[i]!).toFixed(1)}` : ''))
      .join('');
    const raw = pts.map(([, l]) => l);
    parts.push(`<path d="${line(raw)}" fill="none" stroke="${color}" stroke-opacity="0.25" stroke-width="1"/>`);
    parts.push(`<path d="${line(smoothEma(raw, smoothing))}" fill="none" stroke="${color}" stroke-width="2.2"/>`);
    if (pts.length === 1) parts.push(`<circle cx="${X(pts[0]![0]).toFixed(1)}" cy="${Y(raw[0]!).toFixed(1)}" r="3" fill="${color}"/>`);
    // legend entry (top right, inside the plot)
    const lx = m.left + pw - 150, ly = m.top + 18 + li++ * 20;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${lx + 32}" y="${ly}" font-size="13" dominant-baseline="middle">${esc(kind)} (${pts.length})</text>`);
  }
  if (!series.size) parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph / 2}" font-size="14" text-anchor="middle" fill="#888">no training records yet</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Renders the records' loss curves to a PNG file (written atomically). */
export async function writeLossPlot(file: string, records: readonly MetricsRecord[], opts: LossPlotOptions = {}): Promise<void> {
  const png = await sharp(Buffer.from(buildLossSvg(records, opts))).png().toBuffer();
  atomicWriteFileSync(file, png);
}
