// `detclip data check`: validates a dataset end to end (records, boxes, categories, captions, spans, and
// every image decoded) and summarises it. Each problem is one DataIssue naming the file and the record.
import fs from 'node:fs';
import { DataFileError, BOX_SLACK } from './fileHelpers.ts';
import { decodeRgb, imageSize } from './imageOps.ts';
import { openCoco } from './cocoReader.ts';
import { openOdvg, sniffOdvgKind } from './odvgReader.ts';
import { openPairs } from './pairsReader.ts';
import { openWds } from './wdsReader.ts';
import type { DataIssue, Sample, SampleKind, SampleSource } from './types.ts';

export type CheckFormat = 'coco' | 'odvg' | 'pairs' | 'wds';

export interface CheckOptions {
  format: CheckFormat;
  file: string | string[];   // wds: shards (brace patterns allowed)
  images?: string;
  labelMap?: string;
  decode?: boolean;          // fully decode every image (default true; false = header only)
  concurrency?: number;      // images checked at once (default 4)
}

export interface CheckReport {
  file: string;
  format: CheckFormat;
  kind: SampleKind;
  records: number;           // samples that passed the record checks
  images: number;            // distinct images checked
  boxes: number;
  concepts: number;          // distinct positive concepts (categories / phrases)
  captions: number;
  issues: DataIssue[];
}

function open(o: CheckOptions, kind?: 'detection' | 'grounding'): SampleSource {
  const files = Array.isArray(o.file) ? o.file : [o.file];
  if (o.format === 'wds') return openWds(files);
  if (files.length !== 1) throw new DataFileError(files[0]!, `format '${o.format}' takes one file`);
  const file = files[0]!;
  if (!fs.existsSync(file)) throw new DataFileError(file, 'no such file');
  if (o.format === 'coco') return openCoco(file, { images: o.images, enrich: { enabled: false } });
  if (o.format === 'odvg') return openOdvg(file, { kind, labelMap: o.labelMap, images: o.images, enrich: { enabled: false } });
  return openPairs(file, { images: o.images });
}

/** Reads one image: its size, or why it cannot be used. */
async function probeImage(image: string | Uint8Array, decode: boolean): Promise<{ w: number; h: number } | string> {
  const what = typeof image === 'string' ? `image ${image}` : 'image';
  if (typeof image === 'string' && !fs.existsSync(image)) return `${what}: missing file`;
  try {
    const { width, height } = decode ? await decodeRgb(image) : await imageSize(image);
    return { w: width, h: height };
  } catch (err) {
    return `${what}: corrupt or truncated image (${(err as Error).message.split('\n')[0]})`;
  }
}

/** Checks a record against its image: usable, size as declared, boxes inside. */
function checkAgainst(s: Sample, probe: { w: number; h: number } | string): string | undefined {
  if (typeof probe === 'string') return probe;
  const { w, h } = probe;
  if (s.width !== undefined && (s.width !== w || s.height !== h))
    return `${typeof s.image === 'string' ? `image ${s.image}` : 'image'}: is ${w}x${h} but the record says ${s.width}x${s.height}`;
  for (const b of s.boxes)
    if (b[0]! < -BOX_SLACK || b[1]! < -BOX_SLACK || b[2]! > w + BOX_SLACK || b[3]! > h + BOX_SLACK)
      return `box [${b.join(', ')}] is outside the ${w}x${h} image`;
  return undefined;
}

export async function checkDataset(o: CheckOptions): Promise<CheckReport> {
  const recordIssues: DataIssue[] = [];
  const imageIssues: { at: number; issue: DataIssue }[] = [];
  let kind: 'detection' | 'grounding' | undefined;
  if (o.format === 'odvg') {
    const f = Array.isArray(o.file) ? o.file[0]! : o.file;
    if (!fs.existsSync(f)) throw new DataFileError(f, 'no such file');
    kind = o.labelMap ? 'detection' : (await sniffOdvgKind(f)) ?? 'grounding';
  }
  const source = open(o, kind);
  const report: CheckReport = { file: source.file, format: o.format, kind: source.kind, records: 0, images: 0, boxes: 0, concepts: 0, captions: 0, issues: [] };
  const concepts = new Set<string>();
  const probes = new Map<string, Promise<{ w: number; h: number } | string>>(); // each image file read once
  const inflight = new Set<Promise<void>>();
  const limit = o.concurrency ?? 4;
  for await (const s of source.samples((i) => recordIssues.push(i))) {
    const at = report.records++;
    report.boxes += s.boxes.length;
    if (s.caption !== undefined) report.captions++;
    for (const c of s.concepts.slice(0, s.numPositive)) concepts.add(c);
    let probe = typeof s.image === 'string' ? probes.get(s.image) : undefined;
    if (!probe) {
      probe = probeImage(s.image, o.decode ?? true);
      if (typeof s.image === 'string') probes.set(s.image, probe);
      report.images++;
    }
    const p = probe.then((r) => {
      const msg = checkAgainst(s, r);
      if (msg) imageIssues.push({ at, issue: { file: s.source, record: s.record, message: msg } });
      inflight.delete(p);
    });
    inflight.add(p);
    if (inflight.size >= limit) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  report.concepts = concepts.size;
  // Record problems in reading order, then image problems in record order (images are checked concurrently).
  report.issues = [...recordIssues, ...imageIssues.sort((a, b) => a.at - b.at).map((x) => x.issue)];
  return report;
}

/** The summary line of a report. */
export function summarizeCheck(r: CheckReport): string {
  const parts = [`${r.records} records`, `${r.images} images`];
  if (r.kind !== 'imageText') parts.push(`${r.boxes} boxes`, `${r.concepts} ${r.kind === 'detection' ? 'categories' : 'phrases'}`);
  if (r.captions) parts.push(`${r.captions} captions`);
  const errors = r.issues.length;
  return `${r.file} (${r.format}, ${r.kind}): ${parts.join(', ')}; ${errors === 0 ? 'no errors' : `${errors} error${errors > 1 ? 's' : ''}`}`;
}
