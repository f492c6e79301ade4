// Evaluation speed and memory: builds a COCO-val-sized case (5,000 images, 80 categories, ~36k boxes, 100
// detections per image) and an LVIS-sized one (5,000 images, 1,203 categories, 300 detections per image), seeded,
// writes them as JSON files, then times what `eval-json` does for each protocol in a fresh process (load + check,
// then evaluate) and reports its CPU time and peak RSS. Where python3 can import pycocotools / lvis, the
// references run on the same files too.
//   npx tsx bench/eval.ts [--out DIR] [--only coco|lvis|lvis-fixed]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** mulberry32: small seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

interface Box { x: number; y: number; w: number; h: number }

function randomBox(r: () => number, W: number, H: number): Box {
  const side = Math.exp(Math.log(6) + r() * (Math.log(Math.min(W, H) * 0.9) - Math.log(6))); // small..large
  const aspect = Math.exp((r() - 0.5) * 1.4);
  const w = Math.min(W - 1, side * aspect), h = Math.min(H - 1, side / aspect);
  return { x: r() * (W - w), y: r() * (H - h), w, h };
}

function jitter(r: () => number, b: Box, s: number, W: number, H: number): Box {
  const w = Math.max(1, b.w * (1 + (r() - 0.5) * s)), h = Math.max(1, b.h * (1 + (r() - 0.5) * s));
  const x = Math.min(Math.max(0, b.x + (r() - 0.5) * s * b.w), W - 1), y = Math.min(Math.max(0, b.y + (r() - 0.5) * s * b.h), H - 1);
  return { x, y, w, h };
}

/** Streams an array of records to a JSON file without holding its text. */
class JsonListWriter {
  private fd: number;
  private first = true;
  private buf: string[] = [];
  constructor(file: string, head = '[') { this.fd = fs.openSync(file, 'w'); fs.writeSync(this.fd, head); }
  push(rec: unknown): void {
    this.buf.push((this.first ? '' : ',') + JSON.stringify(rec));
    this.first = false;
    if (this.buf.length >= 10000) this.flush();
  }
  flush(): void { fs.writeSync(this.fd, this.buf.join('')); this.buf = []; }
  close(tail = ']'): void { this.flush(); fs.writeSync(this.fd, tail); fs.closeSync(this.fd); }
}

function buildCase(kind: 'coco' | 'lvis', dir: string): { gt: string; dt: string } {
  const r = rng(kind === 'coco' ? 2017 : 2019);
  const I = 5000, K = kind === 'coco' ? 80 : 1203, perImage = kind === 'coco' ? 100 : 300;
  const categories = Array.from({ length: K }, (_, k) => ({
    id: k + 1, name: `cat${k + 1}`,
    ...(kind === 'lvis' ? { frequency: k < 337 ? 'r' : k < 337 + 461 ? 'c' : 'f' } : {}),
  }));
  // Category popularity: a long tail, as in both datasets.
  const weight = categories.map((_, k) => 1 / (1 + (kind === 'coco' ? k * 0.15 : (K - k) * 0.05)));
  const cum: number[] = [];
  weight.reduce((s, w, i) => (cum[i] = s + w), 0);
  const pickCat = (): number => { const u = r() * cum[K - 1]!; let k = 0; while (cum[k]! < u) k++; return k + 1; };

  const gtFile = path.join(dir, `${kind}-gt.json`), dtFile = path.join(dir, `${kind}-dt.json`);
  const images: unknown[] = [];
  const anns = new JsonListWriter(gtFile, '{"annotations":[');
  const dts = new JsonListWriter(dtFile);
  let annId = 1;
  for (let im = 1; im <= I; im++) {
    const W = 640, H = 480;
    const nCats = kind === 'coco' ? 1 + Math.floor(r() * 4) : 2 + Math.floor(r() * 4);
    const cats = Array.from({ length: nCats }, pickCat);
    const gts: { cat: number; box: Box }[] = [];
    const nGt = kind === 'coco' ? 1 + Math.floor(r() * 13) : 2 + Math.floor(r() * 21);
    for (let g = 0; g < nGt; g++) {
      const cat = cats[Math.floor(r() * nCats)]!;
      const box = randomBox(r, W, H);
      gts.push({ cat, box });
      anns.push({
        id: annId++, image_id: im, category_id: cat, bbox: [box.x, box.y, box.w, box.h].map(round2),
        area: round2(box.w * box.h * (0.55 + 0.4 * r())), iscrowd: kind === 'coco' && r() < 0.01 ? 1 : 0,
      });
    }
    const img: Record<string, unknown> = { id: im, width: W, height: H, file_name: `${String(im).padStart(12, '0')}.jpg` };
    if (kind === 'lvis') {
      const pos = new Set(gts.map((g) => g.cat));
      const neg = new Set<number>();
      while (neg.size < 4 + Math.floor(r() * 10)) { const c = pickCat(); if (!pos.has(c)) neg.add(c); }
      img.neg_category_ids = [...neg];
      img.not_exhaustive_category_ids = [...pos].filter(() => r() < 0.1);
    }
    images.push(img);
    // Detections: a few around each gt (better boxes score higher), the rest anywhere, scores with 3 decimals (ties).
    let left = perImage;
    for (const g of gts) {
      for (let j = 0; j < 3 && left > 0; j++, left--) {
        const s = 0.05 + r() * 0.6;
        const b = jitter(r, g.box, s, W, H);
        const cat = r() < 0.9 ? g.cat : pickCat();
        dts.push({ image_id: im, category_id: cat, bbox: [b.x, b.y, b.w, b.h].map(round2), score: Math.round((1 - s) * r() * 1000) / 1000 });
      }
    }
    for (; left > 0; left--) {
      const b = randomBox(r, W, H);
      const cat = r() < 0.5 ? cats[Math.floor(r() * nCats)]! : pickCat();
      dts.push({ image_id: im, category_id: cat, bbox: [b.x, b.y, b.w, b.h].map(round2), score: Math.round(r() * r() * 600) / 1000 });
    }
  }
  dts.close();
  anns.close(`],"images":${JSON.stringify(images)},"categories":${JSON.stringify(categories)}}`);
  console.log(`${kind} case: ${I} images, ${K} categories, ${annId - 1} boxes, ${I * perImage} detections`);
  return { gt: gtFile, dt: dtFile };
}

interface Measured {
  protocol: string;
  loadSeconds: number; // read + check the two files
  evalSeconds: number; // match + accumulate + summarize
  cpuSeconds: number; // user + system CPU of both (the machine may be shared: wall time varies more)
  maxRssMiB: number;
  stats: Record<string, number>;
}

/** Child mode: one evaluation with the functions `eval-json` calls, then its times and peak RSS on stdout. */
async function child(protocol: string, gtFile: string, dtFile: string): Promise<void> {
  const { loadDetectionsFile, loadGroundTruthFile } = await import('../src/eval/loadJson.ts');
  const { evaluateCocoPrepared } = await import('../src/eval/cocoEval.ts');
  const { evaluateLvisPrepared } = await import('../src/eval/lvisEval.ts');
  const { evaluateLvisFixedPrepared } = await import('../src/eval/fixedAp.ts');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const gt = loadGroundTruthFile(gtFile, protocol === 'coco' ? 'coco' : 'lvis');
  const dt = loadDetectionsFile(dtFile, gt);
  const t1 = performance.now();
  const r = protocol === 'coco' ? evaluateCocoPrepared(gt, dt) : protocol === 'lvis' ? evaluateLvisPrepared(gt, dt) : evaluateLvisFixedPrepared(gt, dt);
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const out: Measured = {
    protocol, loadSeconds: (t1 - t0) / 1000, evalSeconds: (t2 - t1) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024, stats: r.stats,
  };
  process.stdout.write(JSON.stringify(out));
}

function pythonReference(protocol: string, gt: string, dt: string): string {
  const mod = protocol === 'coco' ? 'pycocotools' : 'lvis';
  if (spawnSync('python3', ['-c', `import ${mod}`]).status !== 0) return `${mod} not installed here`;
  const code = protocol === 'coco'
    ? `import time,sys\nfrom pycocotools.coco import COCO\nfrom pycocotools.cocoeval import COCOeval\nt=time.time()\ng=COCO(sys.argv[1]);d=g.loadRes(sys.argv[2]);e=COCOeval(g,d,'bbox');e.evaluate();e.accumulate();e.summarize()\nprint('SECONDS',time.time()-t)`
    : `import time,sys\nfrom lvis import LVIS,LVISResults,LVISEval\nt=time.time()\ng=LVIS(sys.argv[1]);e=LVISEval(g,sys.argv[2],'bbox');e.run()\nprint('SECONDS',time.time()-t)`;
  const res = spawnSync('python3', ['-c', code, gt, dt], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /SECONDS (\S+)/.exec(res.stdout);
  return m ? `${Number(m[1]).toFixed(2)} s` : `failed: ${(res.stderr || '').split('\n').slice(-2).join(' ')}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!, argv[3]!);
  const outIdx = argv.indexOf('--out');
  const dir = outIdx >= 0 ? argv[outIdx + 1]! : fs.mkdtempSync(path.join(os.tmpdir(), 'detclip-bench-eval-'));
  fs.mkdirSync(dir, { recursive: true });
  const onlyIdx = argv.indexOf('--only');
  const only = onlyIdx >= 0 ? argv[onlyIdx + 1] : undefined;
  const self = fileURLToPath(import.meta.url);
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), files in ${dir}`);
  const cases: Record<string, { gt: string; dt: string }> = {};
  for (const protocol of ['coco', 'lvis', 'lvis-fixed']) {
    if (only && only !== protocol) continue;
    const kind = protocol === 'coco' ? 'coco' : 'lvis';
    if (!cases[kind]) {
      const t0 = performance.now();
      cases[kind] = buildCase(kind, dir);
      const mb = (f: string) => (fs.statSync(f).size / 2 ** 20).toFixed(0);
      console.log(`${kind} case: gt ${mb(cases[kind].gt)} MiB, dt ${mb(cases[kind].dt)} MiB (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    const { gt, dt } = cases[kind];
    const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', protocol, gt, dt], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const m = JSON.parse(out) as Measured;
    const total = m.loadSeconds + m.evalSeconds;
    console.log(`${protocol.padEnd(10)} total ${total.toFixed(2)} s (load ${m.loadSeconds.toFixed(2)} s + evaluate ${m.evalSeconds.toFixed(2)} s),`
      + ` CPU ${m.cpuSeconds.toFixed(2)} s, peak RSS ${m.maxRssMiB.toFixed(0)} MiB, AP ${m.stats.AP!.toFixed(4)}`
      + ` | reference: ${protocol === 'lvis-fixed' ? 'n/a (lvis-api after a top-K script)' : pythonReference(protocol, gt, dt)}`);
  }
}

await main();
